"""``/admin/agencies/``: agencies, their units, time zone and jurisdiction."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from learning.access import fresh_mfa_required, role_required
from learning.accounts.forms import AgencyTimeZoneForm
from learning.accounts.models import Agency, User
from learning.admin.blueprint import bp
from learning.admin.forms import AgencyForm, JurisdictionForm, UnitForm
from learning.admin.service import (
    AdminError,
    add_unit,
    agencies_with_counts,
    create_agency,
    set_jurisdiction,
)
from learning.agency.service import save_time_zone
from learning.content.jurisdictions import choices as jurisdiction_choices
from learning.extensions import db


@bp.route("/agencies/", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def agencies():
    """Every agency, and a form to add one."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = create_agency(current_user, form.name.data, form.slug.data)
        except AdminError as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for(".agency", agency_id=agency.id))
    return render_template("admin/agencies.html", rows=agencies_with_counts(), form=form)


@bp.route("/agencies/<int:agency_id>/", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def agency(agency_id: int):
    """An agency's units and managers, and a form to add a unit."""
    found = db.session.get(Agency, agency_id) or abort(404)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            add_unit(current_user, found, form.name.data, form.kind.data)
        except AdminError as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for(".agency", agency_id=agency_id))
    return _agency_page(found, form, AgencyTimeZoneForm(data={"time_zone": found.time_zone}),
                        JurisdictionForm(formdata=None, jurisdiction=found.jurisdiction or ""))


def _agency_page(found: Agency, form: UnitForm, zone_form: AgencyTimeZoneForm,
                 place: JurisdictionForm, status: int = 200):
    """An agency's page: units, time zone, jurisdiction and managers."""
    managers = db.session.scalars(sa.select(User).where(
        User.agency_id == found.id, User.role == "manager").order_by(User.display_name)).all()
    _jurisdiction_menu(place)
    return render_template("admin/agency.html", agency=found, form=form, managers=managers,
                           zone_form=zone_form, place=place), status


def _jurisdiction_menu(form: JurisdictionForm) -> None:
    """None, the EU and the UK, then every country by name (in the reader's language)."""
    form.jurisdiction.choices = [SelectChoice("", _("None (general text only)"))] + [
        SelectChoice(code, name) for code, name in jurisdiction_choices(str(get_locale()))]


@bp.post("/agencies/<int:agency_id>/time-zone")
@role_required("admin")
def agency_time_zone(agency_id: int):
    """Set an agency's time zone (its managers can too, from their settings page)."""
    found = db.session.get(Agency, agency_id) or abort(404)
    zone_form = AgencyTimeZoneForm()
    if zone_form.validate_on_submit() and save_time_zone(current_user, found, zone_form):
        flash(_("The agency's time zone is saved."), "success")
        return redirect(url_for(".agency", agency_id=agency_id))
    return _agency_page(found, UnitForm(formdata=None), zone_form,
                        JurisdictionForm(formdata=None, jurisdiction=found.jurisdiction or ""),
                        400)


@bp.post("/agencies/<int:agency_id>/jurisdiction/")
@role_required("admin")
def agency_jurisdiction(agency_id: int):
    """Set whose lesson passages and final items the agency's officers get."""
    found = db.session.get(Agency, agency_id) or abort(404)
    form = JurisdictionForm()
    _jurisdiction_menu(form)
    if not form.validate_on_submit():
        flash(_("Choose a jurisdiction from the list."), "error")
        return _agency_page(found, UnitForm(formdata=None),
                            AgencyTimeZoneForm(data={"time_zone": found.time_zone}), form, 400)
    set_jurisdiction(current_user, found, form.jurisdiction.data)
    flash(_("Jurisdiction saved."), "success")
    return redirect(url_for(".agency", agency_id=agency_id))
