"""The officer's certificates, their PDFs, and the public verify page."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import login_required
from learning.certificates.pdf import PAPERS
from learning.certificates.service import certificate_pdf, certificates_of, find_certificate
from learning.core.localtime import viewer_today
from learning.ratelimit import allow
from learning.timeutil import utcnow

bp = Blueprint("certificates", __name__)


@bp.get("/certificates/")
@login_required
def index():
    """Every certificate the signed-in officer holds, with its status and PDF links."""
    return render_template("certificates/index.html", certificates=certificates_of(current_user.id),
                           today=viewer_today())


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


MAX_TYPED_CODE = 300


def typed_code(text: str) -> str:
    """The code in what someone typed or pasted: a bare code or a whole verify link."""
    text = text.strip()
    if "/verify/" in text:
        text = text.split("/verify/", 1)[1]
    text = text.split("?", 1)[0].split("#", 1)[0].strip("/")
    return "".join(text.split()).replace("-", "").lower()


@bp.get("/verify/")
def verify_form():
    """Public: a form to type a certificate code; ``?code=`` goes on to its check page."""
    raw = request.args.get("code")
    if raw is None:
        return render_template("certificates/verify_form.html")
    code = typed_code(raw) if len(raw) <= MAX_TYPED_CODE else ""
    if not code or "/" in code:
        return render_template("certificates/verify_form.html", code=raw[:MAX_TYPED_CODE],
                               code_error=_("Type the code printed on the certificate.")), 400
    return redirect(url_for(".verify", code=code), 303)


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
