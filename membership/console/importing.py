"""Members > Import members (issue 16): the CLI's import as an upload, its dry-run
report first, then the real import once an admin confirms it.

Permission: `members:import`, its own entry in membership/staff/roles.py and held by
admins only. An import creates readers, newsletter opt-ins with consent evidence and
comps by the thousand, which is more than support's one-member actions; a permission of
its own (rather than borrowing an unrelated admin one such as readers:erase) lets the
roles table hand it to another role later in one reviewed line.

The steps, each through the CLI's own service (membership/readers/importing/service.py):
1. GET  /staff/members/import: the form (file, source, optional column map).
2. POST /staff/members/import: the file is parsed; an unreadable one (no header, no email
   column, a map naming a missing column) is a 400 with the reason and nothing is kept.
   A readable one is stored server-side as a row bound to this console session
   (importing/uploads.py; never a copy sent back by the browser), then 303 to its report.
   This route takes bodies up to UPLOAD_MAX_BODY (the app's cap is 1 MiB): a Ghost export
   of a few thousand members is a few hundred KB, 100,000 members about 15 MB.
3. GET  /staff/members/import/<id>: the dry run (applied in a savepoint, rolled back) and
   its report, with "Confirm import".
4. POST /staff/members/import/<id>/confirm: the real import of the same stored bytes with
   the same source and map, the upload deleted in the same transaction (a second confirm
   finds nothing: 404, nothing changes), the run recorded and audited; the final report.

It runs in the request, dry run and import alike: the importer applies 100,000 rows in
under a minute (bench/import.py) and a few thousand in well under a second, so a worker
and a progress page would add states without need. Every POST is also audited by the
staff audit hook; nobody is mailed because of an import (apply.py records no notice).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from membership.billing.models import Plan
from membership.console.auth import console_page, current, error_page, staff
from membership.console.blueprint import bp
from membership.db import utcnow
from membership.errors import DomainError, Unauthorized
from membership.extensions import db
from membership.newsletters.models import Newsletter
from membership.readers.importing import service, uploads
from membership.readers.importing.apply import Target
from membership.readers.importing.formats import FIELDS, FORMATS
from membership.readers.importing.options import COMP_MONTHS
from membership.readers.importing.parse import ImportFileError, Parsed
from membership.readers.importing.report import Report
from membership.unit_of_work import unit_of_work
from membership.web.body_limits import allows_body

UPLOAD_MAX_BODY = 20 * 1024 * 1024
SOURCES = (("ghost", "Ghost"), ("substack", "Substack"), ("mailchimp", "Mailchimp"), ("csv", "CSV"))
SHOWN_REJECTIONS = 1000  # a wrong source can refuse every row; the page stays readable
assert {code for code, _ in SOURCES} == set(FORMATS)


class BadUpload(DomainError):
    status, title, type_slug = 400, "The file cannot be imported", "bad-upload"


class TooLarge(DomainError):
    status, title, type_slug = 413, "Too large", "too-large"


def _session_id() -> int:
    found = current()
    if found is None:  # the guard has checked; this keeps the type honest
        raise Unauthorized("Sign in to the console first.")
    return found.session_id


def _form(error: str | None = None, status: int = 200) -> tuple[str, int]:
    form = request.form if error else {}
    return render_template("console/import_upload.html", sources=SOURCES, fields=sorted(FIELDS), error=error,
                           source=form.get("source", "ghost"), column_map=form.get("column_map", ""),
                           max_mib=UPLOAD_MAX_BODY // (1024 * 1024)), status


@bp.get("/members/import")
@console_page("members:import")
def import_form() -> tuple[str, int]:
    return _form()


@bp.post("/members/import")
@allows_body(UPLOAD_MAX_BODY)
@console_page("members:import")
def import_upload() -> Response | tuple[str, int]:
    source = request.form.get("source", "")
    column_map = request.form.get("column_map", "")[:10_000]
    upload = request.files.get("file")
    if source not in FORMATS:
        return _form("Choose whose export this is: Ghost, Substack, Mailchimp or CSV.", 400)
    if upload is None or not upload.filename:
        return _form("Choose the export file to upload.", 400)
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]  # some browsers send a whole path
    body = upload.read()
    if not body.strip():
        return _form("The file is empty.", 400)
    try:
        service.parse(body, source, uploads.map_lines(column_map))
    except ImportFileError as exc:
        return _form(f"{name} cannot be imported: {exc}.", 400)
    with unit_of_work():
        row = uploads.store(_session_id(), source, column_map, name, body, utcnow())
        upload_id = row.id
    return Response(status=303, headers={"Location": url_for("console.import_dry_run", upload_id=upload_id)})


@bp.get("/members/import/<upload_id>")
@console_page("members:import")
def import_dry_run(upload_id: str) -> tuple[str, int]:
    row = uploads.find(upload_id, _session_id(), utcnow())
    target = service.default_target(row.source)
    report = service.dry_run(_parse(row.body, row.source, row.column_map), target, row.file_name)
    return _report(report, target, upload_id=row.id, column_map=row.column_map)


@bp.post("/members/import/<upload_id>/confirm")
@console_page("members:import")
def import_confirm(upload_id: str) -> tuple[str, int]:
    with unit_of_work():
        row = uploads.claim(upload_id, _session_id(), utcnow())
        target = service.default_target(row.source)
        report, run = service.run(_parse(row.body, row.source, row.column_map), target, row.file_name,
                                  actor=staff().email, via="console")
        column_map, run_id = row.column_map, run.id
    return _report(report, target, column_map=column_map, run_id=run_id)


@bp.post("/members/import/<upload_id>/discard")
@console_page("members:import")
def import_discard(upload_id: str) -> Response:
    with unit_of_work():
        uploads.claim(upload_id, _session_id(), utcnow())
    return Response(status=303, headers={"Location": url_for("console.import_form")})


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    """The body caps (membership/web/body_limits.py) as a console page, not a JSON problem."""
    return error_page(TooLarge(exc.description or "The upload is too large."))


def _parse(body: bytes, source: str, column_map: str) -> Parsed:
    """The stored upload, parsed again (it was readable when it was stored)."""
    try:
        return service.parse(body, source, uploads.map_lines(column_map))
    except ImportFileError as exc:
        raise BadUpload(f"The stored file cannot be read any more: {exc}.") from None


def _report(report: Report, target: Target, **extra: Any) -> tuple[str, int]:
    newsletters = db.session.scalars(select(Newsletter.name).where(Newsletter.id.in_(target.newsletter_ids))
                                     .order_by(Newsletter.id)).all() if target.newsletter_ids else []
    plan = db.session.get(Plan, target.comp_plan_id) if target.comp_plan_id is not None else None
    rejections = report.rejections
    return render_template("console/import_report.html", r=report, o=report.outcome,
                           source_name=dict(SOURCES)[report.source], rejections=rejections[:SHOWN_REJECTIONS],
                           rejected_total=len(rejections), newsletters=newsletters,
                           comp_plan=plan.name if plan else None, comp_months=COMP_MONTHS, **extra), 200
