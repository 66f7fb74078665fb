"""``/admin/``: instance overview and certificate revocation."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import role_required
from learning.admin.forms import CertificateSearchForm, RevokeForm
from learning.certificates.models import Certificate
from learning.certificates.service import find_certificate, revoke_certificate
from learning.extensions import db
from learning.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required("admin")
def index():
    """Recent certificates and a lookup by code."""
    form = CertificateSearchForm(request.args)
    if request.args.get("code") and form.validate():
        certificate = find_certificate(form.code.data.strip().lower())
        if certificate is None:
            flash(_("No certificate has this code."), "error")
        else:
            return redirect(url_for(".certificate", code=certificate.code))
    recent = db.session.scalars(sa.select(Certificate).order_by(Certificate.id.desc())
                                .limit(50)).all()
    return render_template("admin/index.html", form=form, recent=recent, today=utcnow().date())


@bp.route("/certificates/<code>", methods=["GET", "POST"])
@role_required("admin")
def certificate(code: str):
    """One certificate, with the revoke form."""
    found = find_certificate(code) or abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        revoke_certificate(found, form.reason.data, current_user.id)
        flash(_("The certificate is revoked. Its public page now says so."), "success")
        return redirect(url_for(".certificate", code=code))
    return render_template("admin/certificate.html", certificate=found, form=form,
                           status=found.status(utcnow().date()))
