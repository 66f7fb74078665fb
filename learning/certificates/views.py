"""The officer's certificates, their PDFs, and the public verify page."""

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from learning.access import login_required
from learning.certificates.pdf import PAPERS
from learning.certificates.service import certificate_pdf, certificates_of, find_certificate
from learning.ratelimit import allow
from learning.timeutil import utcnow

bp = Blueprint("certificates", __name__)


@bp.get("/certificates/")
@login_required
def index():
    """Every certificate the signed-in officer holds, with its status and PDF links."""
    return render_template("certificates/index.html", certificates=certificates_of(current_user.id),
                           today=utcnow().date())


@bp.get("/certificates/<code>.pdf")
@login_required
def pdf(code: str):
    """The PDF, for its holder (or an admin)."""
    certificate = find_certificate(code)
    if certificate is None or (certificate.user_id != current_user.id
                               and not current_user.has_role("admin")):
        abort(404)
    paper = request.args.get("paper", "a4")
    if paper not in PAPERS:
        abort(400)
    response = Response(certificate_pdf(certificate, paper), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="waymark-{code}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verify/<code>")
def verify(code: str):
    """Public: status, course, version, dates and the name as printed; nothing else."""
    if not allow("verify", current_app.config["VERIFY_RATE_LIMIT"]):
        return render_template("certificates/verify_busy.html"), 429
    certificate = find_certificate(code)
    if certificate is None:
        return render_template("certificates/verify_unknown.html"), 404
    response = Response(render_template("certificates/verify.html", certificate=certificate,
                                        status=certificate.status(utcnow().date())))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
