"""Reader JSON API: sign-up, sign-in, session, profile, newsletters, export, erasure."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation
from membership.api.limits import per_ip_and_email
from membership.billing.entitlement import entitlement
from membership.extensions import db
from membership.identity.consents import request_meta
from membership.identity.guard import READER, me
from membership.identity.models import Reader
from membership.identity.sessions import (
    csrf_token,
    end_session,
    require_recent_sign_in,
    revoke_all_sessions,
    start_session,
)
from membership.readers import privacy, services
from membership.readers.schemas import (
    Accepted,
    Done,
    EraseIn,
    MembershipOut,
    MeOut,
    NewsletterOut,
    NewsletterPrefsIn,
    NewslettersOut,
    ProfileIn,
    SessionOut,
    SignInIn,
    SignUpIn,
    TokenIn,
)

bp = Blueprint("readers_api", __name__, url_prefix="/api")


def session_out(reader: Reader) -> SessionOut:
    return SessionOut(reader_id=reader.id, email=reader.email, name=reader.name, csrf_token=csrf_token(),
                      is_member=entitlement(reader.id).active)


@operation(bp, "/signup", "POST", summary="Sign up (double opt-in by mail)", tag="readers", body=SignUpIn,
           response=Accepted, status=202, errors=(429,), decorators=per_ip_and_email("SIGNUP"))
def signup(body: SignUpIn) -> Accepted:
    """Same answer whether the address exists or not."""
    services.sign_up(body, request_meta())
    db.session.flush()  # the operation commits once it returns
    return Accepted()


@operation(bp, "/signup/confirm", "POST", summary="Confirm a sign-up link; signs in", tag="readers",
           body=TokenIn, response=SessionOut, errors=(410,))
def confirm(body: TokenIn) -> SessionOut:
    reader = services.confirm(body.token, request_meta())
    db.session.flush()  # the operation commits once it returns
    start_session(reader)
    return session_out(reader)


@operation(bp, "/signin", "POST", summary="Mail a sign-in link", tag="readers", body=SignInIn,
           response=Accepted, status=202, errors=(429,), decorators=per_ip_and_email("SIGNIN"))
def signin(body: SignInIn) -> Accepted:
    services.request_sign_in(str(body.email))
    db.session.flush()  # the operation commits once it returns
    return Accepted()


@operation(bp, "/signin/verify", "POST", summary="Use a sign-in link; starts a session", tag="readers",
           body=TokenIn, response=SessionOut, errors=(410,))
def signin_verify(body: TokenIn) -> SessionOut:
    reader = services.sign_in(body.token)
    db.session.flush()  # the operation commits once it returns
    start_session(reader)
    return session_out(reader)


@operation(bp, "/session", "GET", summary="The current session and its CSRF token", tag="readers",
           response=SessionOut, security=READER)
def current_session() -> SessionOut:
    return session_out(me())


@operation(bp, "/signout", "POST", summary="Sign out of this browser", tag="readers", response=Done,
           security=READER)
def signout() -> Done:
    """Ends this session on the server: a copy of the cookie stops working too."""
    end_session()
    db.session.flush()  # the operation commits once it returns
    return Done()


@operation(bp, "/signout-everywhere", "POST", summary="Sign out of every browser", tag="readers",
           response=Done, security=READER)
def signout_everywhere() -> Done:
    revoke_all_sessions(me())
    end_session()
    db.session.flush()  # the operation commits once it returns
    return Done()


def me_out(reader: Reader) -> MeOut:
    ent = entitlement(reader.id)
    subscribed = [n.slug for n, status in services.newsletter_status(reader) if status == "confirmed"]
    return MeOut(id=reader.id, email=reader.email, name=reader.name, created_at=reader.created_at,
                 email_verified=reader.email_verified_at is not None, newsletters=subscribed,
                 membership=MembershipOut(active=ent.active, source=ent.source, until=ent.until))


@operation(bp, "/me", "GET", summary="My account", tag="account", response=MeOut, security=READER)
def get_me() -> MeOut:
    return me_out(me())


@operation(bp, "/me", "PATCH", summary="Change my name", tag="account", body=ProfileIn, response=MeOut,
           security=READER)
def patch_me(body: ProfileIn) -> MeOut:
    reader = me()
    reader.name = body.name
    db.session.flush()  # the operation commits once it returns
    return me_out(reader)


def newsletters_out(reader: Reader) -> NewslettersOut:
    return NewslettersOut(newsletters=[NewsletterOut(slug=n.slug, name=n.name, status=s.value if s else None)
                                       for n, s in services.newsletter_status(reader)])


@operation(bp, "/me/newsletters", "GET", summary="My newsletters", tag="account", response=NewslettersOut,
           security=READER)
def get_newsletters() -> NewslettersOut:
    return newsletters_out(me())


@operation(bp, "/me/newsletters", "PUT", summary="Set my newsletters (exactly these)", tag="account",
           body=NewsletterPrefsIn, response=NewslettersOut, security=READER)
def put_newsletters(body: NewsletterPrefsIn) -> NewslettersOut:
    reader = me()
    services.set_newsletters(reader, body.newsletters, request_meta())
    db.session.flush()  # the operation commits once it returns
    return newsletters_out(reader)


@operation(bp, "/me/export", "GET", summary="Everything we hold on me (JSON)", tag="account",
           response=privacy.ExportOut, security=READER)
def export() -> privacy.ExportOut:
    return privacy.export(me())


@operation(bp, "/me/erase", "POST", summary="Erase my personal data", tag="account", body=EraseIn,
           response=Done, security=READER, errors=(403, 502))
def erase(body: EraseIn) -> Done:
    """Financial rows are kept (law); personal data is removed here and at Stripe.
    Needs a sign-in from the last 15 minutes (else a fresh link is mailed: 403)."""
    privacy.erase(require_recent_sign_in())
    end_session()
    db.session.flush()  # the operation commits once it returns
    return Done()
