#!/usr/bin/python3
"""A partner network's integration with the after-sales suite, in Python.

This file is the example partners read. It is both a small library and a
command-line tool, and it needs nothing but Debian packages:
``python3-grpcio`` and ``python3-protobuf`` at run time, plus a protobuf
compiler to turn ``proto/`` into Python code (see ``generate_stubs``).

What a partner does, in the order it usually happens::

    client = PartnerClient("127.0.0.1:7101", "127.0.0.1:7102", token)
    client.register_engineer("E-LI", "PDEMO", "Engineer Li", skills={"FRIDGE": "INTERMEDIATE"},
                             regions=["CN-310000"], location=(31.23, 121.47))
    stream = client.watch_offers("PDEMO", after_cursor=load_my_saved_cursor())
    order = client.create_order(request_id="ticket-4711", ...).order
    for item in stream:                    # every change of my engineers' offers
        if item.offer.state == client.pb.OFFER_STATE_PENDING:
            client.accept_offer(item.offer.offer_id, item.offer.engineer_id)
        save_my_cursor(item.cursor)        # handled: a restart resumes after it
    client.report_progress(order.order_id, "contacted", event_id="ticket-4711/contacted")
    client.report_progress(order.order_id, "departed", event_id="ticket-4711/departed")
    client.report_progress(order.order_id, "arrived", event_id="ticket-4711/arrived")

The rules every integration must follow (examples/README.md explains them):

* Authentication: every call carries the gRPC metadata
  ``authorization: Bearer <token>``. A partner token is bound to one partner
  id; acting for another partner's engineers or offers answers
  PERMISSION_DENIED or NOT_FOUND.
* Idempotency: ``CreateOrder`` is idempotent per (your principal,
  ``request_id``), ``ReportProgress`` per (order, ``client_event_id``),
  ``RegisterEngineer`` per engineer id, ``AcceptOffer``/``RejectOffer`` per
  offer. Choose these keys from your own records, so that a retry after a
  timeout sends the same key and cannot do the work twice.
* The offer stream (``DispatchService.WatchOffers``) numbers every change of
  your engineers' offers with a cursor that grows by one. Keep the last cursor
  you processed; reconnect with it and you get every later change exactly
  once. ``after_cursor=0`` means "from now on".

Command line (``--help`` lists every command)::

    /usr/bin/python3 examples/python/partner_client.py \\
        --intake 127.0.0.1:7101 --dispatch 127.0.0.1:7102 \\
        --token-file var/secrets/tokens.plain --as partner-demo \\
        watch-offers --partner PDEMO --cursor-file var/pdemo.cursor
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from typing import Iterable, Iterator, Mapping, Optional, Sequence

import grpc  # Debian: python3-grpcio
import google.protobuf  # Debian: python3-protobuf
from google.protobuf import json_format
from google.protobuf import text_format
from google.protobuf import timestamp_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))

# The contracts a partner needs, and what they import. events.proto and the
# other services' protos are not needed to integrate.
PROTO_FILES = (
    "aftersales/v1/common.proto",
    "aftersales/v1/intake.proto",
    "aftersales/v1/dispatch.proto",
    "aftersales/v1/admin.proto",  # ClockAdmin: only for tests on a manual clock
)

# ---------------------------------------------------------------------------
# 1. Python code from the .proto contracts
# ---------------------------------------------------------------------------


class StubGenerationError(RuntimeError):
    """No protobuf compiler on this machine could compile the contracts."""


def _has_well_known_types(d: str) -> bool:
    """Whether d holds google/protobuf/*.proto (Timestamp, Duration ...)."""
    return os.path.exists(os.path.join(d, "google", "protobuf", "timestamp.proto"))


def _generators(proto_dir: str) -> list:
    """Compiler command lines to try, best first, as (name, argv-prefix).

    1. ``grpc_tools.protoc`` (package python3-grpc-tools, or ``grpcio-tools``
       from PyPI), with the well-known types it bundles. It must bundle
       protoc >= 3.15: the contracts use proto3 ``optional``. Debian 12's
       python3-grpc-tools 1.14 bundles protoc 3.5.1, which rejects them, so on
       Debian 12 the next one is used.
    2. ``protoc`` with ``grpc_python_plugin`` (Debian packages protobuf-compiler
       and protobuf-compiler-grpc, which the suite's C++ build uses anyway),
       with the well-known types of libprotobuf-dev in /usr/include.
    """
    out = []
    spec = importlib.util.find_spec("grpc_tools")
    if spec is not None and spec.origin:
        bundled = os.path.join(os.path.dirname(spec.origin), "_proto")
        wkt = ["-I" + bundled] if _has_well_known_types(bundled) else []
        out.append(("grpc_tools.protoc",
                    [sys.executable, "-m", "grpc_tools.protoc", "-I" + proto_dir] + wkt))
    protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    if protoc and plugin:
        wkt = ["-I/usr/include"] if _has_well_known_types("/usr/include") else []
        out.append(("protoc+grpc_python_plugin",
                    [protoc, "--plugin=protoc-gen-grpc_python=" + plugin,
                     "-I" + proto_dir] + wkt))
    return out


def _contracts_hash(proto_dir: str) -> str:
    h = hashlib.sha256()
    for rel in PROTO_FILES:
        with open(os.path.join(proto_dir, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + f.read() + b"\0")
    # Generated code belongs to one interpreter and protobuf runtime.
    h.update(f"{sys.version}|{google.protobuf.__version__}|{grpc.__version__}".encode())
    return h.hexdigest()[:16]


def _importable(out_dir: str) -> Optional[str]:
    """None if the generated code imports with this Python's protobuf, else why not."""
    check = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "import aftersales.v1.intake_pb2_grpc, aftersales.v1.dispatch_pb2_grpc, "
             "aftersales.v1.admin_pb2_grpc")
    r = subprocess.run([sys.executable, "-c", check, out_dir], capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["?"])[-1]


def generate_stubs(proto_dir: str = DEFAULT_PROTO_DIR, cache_dir: Optional[str] = None) -> str:
    """Compiles the contracts into Python modules and returns their directory.

    The result is cached in ``cache_dir`` (default: ``$AFTERSALES_STUBS_DIR``,
    else ``~/.cache/aftersales-partner-client``) under a hash of the .proto
    files, so a changed contract is compiled again and an unchanged one is not.
    Safe to call from several processes at once: each compiles into a private
    directory and renames it into place.
    """
    if cache_dir is None:
        cache_dir = os.environ.get("AFTERSALES_STUBS_DIR") or os.path.join(
            os.path.expanduser("~"), ".cache", "aftersales-partner-client")
    for rel in PROTO_FILES:
        if not os.path.isfile(os.path.join(proto_dir, rel)):
            raise StubGenerationError(f"{rel} not found under {proto_dir} (use --proto-dir)")
    target = os.path.join(cache_dir, _contracts_hash(proto_dir))
    if os.path.isfile(os.path.join(target, "GENERATOR")):
        return target
    os.makedirs(cache_dir, exist_ok=True)
    failures = []
    for name, argv in _generators(proto_dir):
        work = tempfile.mkdtemp(prefix=".gen-", dir=cache_dir)
        r = subprocess.run(argv + ["--python_out=" + work, "--grpc_python_out=" + work]
                           + list(PROTO_FILES), capture_output=True, text=True)
        why = r.stderr.strip() if r.returncode != 0 else None
        if why is None:
            for pkg in ("aftersales", "aftersales/v1"):  # regular packages, not namespaces
                open(os.path.join(work, pkg, "__init__.py"), "a").close()
            why = _importable(work)
        if why is None:
            with open(os.path.join(work, "GENERATOR"), "w") as f:
                f.write(name + "\n")
            try:
                os.rename(work, target)
            except OSError:  # another process was faster: use its copy
                shutil.rmtree(work, ignore_errors=True)
            return target
        shutil.rmtree(work, ignore_errors=True)
        failures.append(f"{name}: {why.splitlines()[0] if why else '?'}")
    if not (shutil.which("protoc") and shutil.which("grpc_python_plugin")):
        failures.append("protoc+grpc_python_plugin: not found on PATH (Debian: install "
                        "protobuf-compiler and protobuf-compiler-grpc)")
    raise StubGenerationError("cannot compile the contracts:\n  " + "\n  ".join(failures))


def load_stubs(proto_dir: str = DEFAULT_PROTO_DIR, cache_dir: Optional[str] = None):
    """Generates (or reuses) the stubs and imports them.

    Returns a namespace ``pb`` with every message and enum value of the
    partner contracts (``pb.CreateOrderRequest``, ``pb.OFFER_STATE_PENDING``)
    and the modules themselves (``pb.intake_pb2``, ``pb.dispatch_pb2_grpc`` ...).
    """
    out_dir = generate_stubs(proto_dir, cache_dir)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    pb = types.SimpleNamespace()
    for name in ("common", "intake", "dispatch", "admin"):
        mod = importlib.import_module(f"aftersales.v1.{name}_pb2")
        grpc_mod = importlib.import_module(f"aftersales.v1.{name}_pb2_grpc")
        setattr(pb, f"{name}_pb2", mod)
        setattr(pb, f"{name}_pb2_grpc", grpc_mod)
        for attr in dir(mod):
            if not attr.startswith("_") and attr[0].isupper():
                setattr(pb, attr, getattr(mod, attr))
    with open(os.path.join(out_dir, "GENERATOR")) as f:
        pb.generator = f.read().strip()
    pb.stubs_dir = out_dir
    return pb


# ---------------------------------------------------------------------------
# 2. Tokens
# ---------------------------------------------------------------------------


def read_token(path: str, name: Optional[str] = None) -> str:
    """Reads a bearer token from a file.

    Two formats: a file holding only the token (like ``var/secrets/service.token``),
    or ``name token`` lines (like ``var/secrets/tokens.plain`` written by
    ``deploy/local/run.sh``), where ``name`` picks the line. ``#`` starts a comment.
    """
    entries = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                entries.append(line.split())
    if name is None:
        if len(entries) == 1 and len(entries[0]) == 1:
            return entries[0][0]
        names = ", ".join(e[0] for e in entries if len(e) == 2)
        raise ValueError(f"{path} holds several tokens ({names}): choose one with --as NAME")
    for e in entries:
        if len(e) == 2 and e[0] == name:
            return e[1]
    raise ValueError(f"{path} has no token named {name!r}")


# ---------------------------------------------------------------------------
# 3. The client
# ---------------------------------------------------------------------------

# Milestones a partner reports, by the field name of ProgressReport.milestone.
# Field milestones need an order assigned to one of your engineers; "contacted"
# and "cancel" are also allowed on orders you created.
MILESTONES = ("contacted", "departed", "arrived", "remote_session_started",
              "remote_session_failed", "diagnosed", "quoted", "fee_decision",
              "repair_started", "waiting_parts", "repaired", "customer_confirmed",
              "customer_unavailable", "hold_released", "rescheduled", "cancel")


def _enum(enum_type, prefix: str, value):
    """Accepts an enum number, its full name or its short name ("INTERMEDIATE")."""
    if isinstance(value, int):
        return value
    name = str(value).upper()
    if not name.startswith(prefix):
        name = prefix + name
    return enum_type.Value(name)


def _timestamp(when) -> object:
    ts = timestamp_pb2.Timestamp()
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            raise ValueError("device time must carry a time zone")
        ts.FromDatetime(when.astimezone(datetime.timezone.utc).replace(tzinfo=None))
    else:
        ts.FromJsonString(str(when))  # RFC 3339, e.g. "2026-11-23T02:10:00Z"
    return ts


class PartnerClient:
    """Calls intake and dispatch with one bearer token.

    ``intake`` and ``dispatch`` are ``host:port``. ``credentials`` is ``None``
    for plaintext (the local suite on loopback) or
    ``grpc.ssl_channel_credentials(...)`` for TLS. Unary calls time out after
    ``timeout`` seconds; every error is raised as ``grpc.RpcError`` with
    ``.code()`` and ``.details()`` (the details name the offending field, e.g.
    ``contact.phone: ...``).
    """

    def __init__(self, intake: str, dispatch: str, token: str, *, pb=None,
                 credentials=None, timeout: float = 10.0):
        self.pb = pb or load_stubs()
        self.token = token
        self.timeout = timeout
        # Reconnect within 5 s of a restarted service (gRPC's default waits up to 2 min).
        options = [("grpc.initial_reconnect_backoff_ms", 500),
                   ("grpc.max_reconnect_backoff_ms", 5000)]
        if credentials is not None:
            self._channels = [grpc.secure_channel(a, credentials, options) for a in (intake, dispatch)]
        else:
            self._channels = [grpc.insecure_channel(a, options) for a in (intake, dispatch)]
        self.intake = self.pb.intake_pb2_grpc.IntakeServiceStub(self._channels[0])
        self.dispatch = self.pb.dispatch_pb2_grpc.DispatchServiceStub(self._channels[1])

    def close(self) -> None:
        for c in self._channels:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def metadata(self) -> tuple:
        """The call metadata: ``authorization: Bearer <token>``."""
        return (("authorization", "Bearer " + self.token),)

    def _call(self, method, request):
        return method(request, metadata=self.metadata(), timeout=self.timeout)

    # --- partner and engineers (DispatchService) ---------------------------

    def upsert_partner(self, partner_id: str, name: str, *, allowed_brands: Sequence[str] = (),
                       allowed_regions: Sequence[str] = (), preference: float = 0.5):
        """Creates or replaces a partner network (ADMIN token only).

        An operator does this once per partner before its engineers get offers.
        Empty allowed brands/regions mean "any".
        """
        p = self.pb.Partner(partner_id=partner_id, name=name, allowed_brands=list(allowed_brands),
                            allowed_regions=list(allowed_regions), preference=preference)
        return self._call(self.dispatch.UpsertPartner, self.pb.UpsertPartnerRequest(partner=p))

    def register_engineer(self, engineer_id: str, partner_id: str, display_name: str, *,
                          skills: Mapping[str, str], regions: Sequence[str] = (),
                          location: Optional[tuple] = None, max_active: int = 0,
                          max_queued: int = 0, brands: Sequence[str] = ()):
        """Registers one of your engineers (idempotent per ``engineer_id``).

        ``skills`` maps an appliance category to a certification level, e.g.
        ``{"FRIDGE": "INTERMEDIATE", "WASHER": "SENIOR"}``. ``regions`` are the
        region codes the engineer covers; ``location`` a first ``(lat, lng)``.
        Capacity 0 takes dispatch's policy default. Registering the same
        engineer again with the same data returns it; with other data it is
        ALREADY_EXISTS (use UpdateEngineer to change an engineer).
        """
        e = self.pb.Engineer(engineer_id=engineer_id, partner_id=partner_id,
                             display_name=display_name)
        for category, level in skills.items():
            e.skills.add(appliance_category=category, brands=list(brands),
                         level=_enum(self.pb.CertificationLevel, "CERTIFICATION_LEVEL_", level))
        e.coverage.region_codes.extend(regions)
        if location is not None:
            e.location.lat_deg, e.location.lng_deg = location
        if max_active:
            e.capacity.max_active = max_active
        if max_queued:
            e.capacity.max_queued = max_queued
        return self._call(self.dispatch.RegisterEngineer, self.pb.RegisterEngineerRequest(engineer=e))

    def report_location(self, engineer_id: str, lat: float, lng: float, reported_at=None):
        """An engineer's live position; dispatch ranks by it (older reports are ignored)."""
        req = self.pb.ReportLocationRequest(engineer_id=engineer_id)
        req.location.lat_deg, req.location.lng_deg = lat, lng
        if reported_at is not None:
            req.reported_at.CopyFrom(_timestamp(reported_at))
        else:
            req.reported_at.GetCurrentTime()
        return self._call(self.dispatch.ReportLocation, req)

    # --- orders (IntakeService) --------------------------------------------

    def create_order(self, *, request_id: str, customer_id: str, region_code: str,
                     city_tier: int, location: tuple, category: str, serial: str,
                     description: str, contact_name: str, phone: str, address: str,
                     brand: str = "", model: str = "", fault_code: str = "",
                     extra: Optional[Mapping] = None):
        """Opens a work order for one of your customers.

        ``request_id`` is YOUR idempotency key (e.g. your ticket number): send
        the same key again after a timeout and you get the original order back
        (``created`` is False); the same key with a different body is
        ALREADY_EXISTS. If an open order for the same appliance ``serial``
        exists, nothing new is opened: the response has
        ``linked_to_open_order`` and that order. ``extra`` is merged into the
        request in protobuf JSON form, e.g. ``{"customerTier": "CUSTOMER_TIER_VIP"}``.
        Returns ``CreateOrderResponse`` (``.order``, ``.created``,
        ``.linked_to_open_order``).
        """
        req = self.pb.CreateOrderRequest(request_id=request_id, customer_id=customer_id,
                                         channel=self.pb.CHANNEL_PARTNER_API)
        req.service_area.region_code = region_code
        req.service_area.city_tier = city_tier
        req.service_area.location.lat_deg, req.service_area.location.lng_deg = location
        req.appliance.category, req.appliance.serial = category, serial
        req.appliance.brand, req.appliance.model = brand, model
        req.fault.description, req.fault.fault_code = description, fault_code
        req.contact.name, req.contact.phone, req.contact.full_address = contact_name, phone, address
        if extra:
            json_format.ParseDict(dict(extra), req)
        return self._call(self.intake.CreateOrder, req)

    def get_order(self, order_id: str):
        """The order as your token may see it (NOT_FOUND if it is not yours)."""
        return self._call(self.intake.GetOrder, self.pb.GetOrderRequest(order_id=order_id))

    def progress_report(self, order_id: str, milestone: str, *, event_id: str,
                        engineer_id: str = "", device_time=None,
                        details: Optional[Mapping] = None):
        """Builds a ``ProgressReport`` (see ``report_progress``)."""
        if milestone not in MILESTONES:
            raise ValueError(f"unknown milestone {milestone!r}; one of {', '.join(MILESTONES)}")
        r = self.pb.ProgressReport(client_event_id=event_id, order_id=order_id,
                                   engineer_id=engineer_id)
        body = getattr(r, milestone)
        body.SetInParent()  # selects the oneof even when the body is empty
        defaults = {"contacted": {"method": "CONTACT_METHOD_PHONE_CALL"}}
        json_format.ParseDict(dict(defaults.get(milestone, {}), **(details or {})), body)
        if device_time is not None:
            r.device_time.CopyFrom(_timestamp(device_time))
        return r

    def report_progress(self, order_id: str, milestone: str, *, event_id: str,
                        engineer_id: str = "", device_time=None,
                        details: Optional[Mapping] = None):
        """Reports one milestone of an order: contacted, departed, arrived,
        diagnosed, repaired, ... (``MILESTONES``).

        ``event_id`` is YOUR idempotency key for this report (e.g.
        ``"ticket-4711/departed/1"``): a retry answers result ``DUPLICATE`` and
        changes nothing. ``details`` fills the milestone's message in protobuf
        JSON form, e.g. for ``diagnosed``:
        ``{"diagnosis": {"initialCauseCode": "COMPRESSOR", "kind": "FAULT_KIND_HARDWARE"}}``.
        A milestone the order's state does not allow is FAILED_PRECONDITION
        ("order is CREATED: cannot ..."). Returns ``ReportProgressResponse``
        (``.result.code``, ``.result.state_after``, ``.order``).
        """
        report = self.progress_report(order_id, milestone, event_id=event_id,
                                      engineer_id=engineer_id, device_time=device_time,
                                      details=details)
        return self._call(self.intake.ReportProgress, self.pb.ReportProgressRequest(report=report))

    def sync_offline(self, device_id: str, reports: Iterable):
        """Sends reports an engineer's terminal buffered while offline.

        Reports are applied in the given order, each idempotently (so a batch
        can be replayed safely); each should carry ``device_time``. After a
        report of an order is rejected, that order's later reports are
        ``SKIPPED``. Returns one ``ProgressResult`` per report, in order.
        """
        req = self.pb.SyncOfflineReportsRequest(device_id=device_id, reports=list(reports))
        return self._call(self.intake.SyncOfflineReports, req).results

    # --- offers (DispatchService) ------------------------------------------

    def list_offers(self, *, partner_id: str = "", order_id: str = "", engineer_id: str = "",
                    state=None) -> list:
        """Your offers, newest first, all pages (filter by order, engineer or state)."""
        req = self.pb.ListOffersRequest(partner_id=partner_id, order_id=order_id,
                                        engineer_id=engineer_id)
        if state is not None:
            req.state = _enum(self.pb.OfferState, "OFFER_STATE_", state)
        req.page.page_size = 500
        out = []
        while True:
            resp = self._call(self.dispatch.ListOffers, req)
            out.extend(resp.offers)
            if not resp.next_page_token:
                return out
            req.page.page_token = resp.next_page_token

    def accept_offer(self, offer_id: str, engineer_id: str):
        """Accepts a PENDING offer for your engineer (idempotent per offer).

        Intake then moves the order to ASSIGNED (at first contact, if the
        customer was not contacted yet). An offer of another partner is
        NOT_FOUND; a timed-out or withdrawn one FAILED_PRECONDITION.
        """
        return self._call(self.dispatch.AcceptOffer,
                          self.pb.AcceptOfferRequest(offer_id=offer_id, engineer_id=engineer_id))

    def reject_offer(self, offer_id: str, engineer_id: str, reason="BUSY", note: str = ""):
        """Declines a PENDING offer; dispatch offers the order to the next engineer."""
        req = self.pb.RejectOfferRequest(
            offer_id=offer_id, engineer_id=engineer_id, note=note,
            reason=_enum(self.pb.OfferRejectReason, "OFFER_REJECT_REASON_", reason))
        return self._call(self.dispatch.RejectOffer, req)

    def watch_offers(self, partner_id: str, *, after_cursor: int = 0, engineer_id: str = "",
                     reconnect: bool = True, stall_timeout: float = 45.0) -> "OfferStream":
        """Opens your offer feed from ``after_cursor`` (0 = from now); see ``OfferStream``."""
        return OfferStream(self, partner_id, after_cursor=after_cursor, engineer_id=engineer_id,
                           reconnect=reconnect, stall_timeout=stall_timeout)


class OfferStream:
    """A partner's offer feed that survives disconnects.

    Iterate it to receive ``OfferFeedMessage`` items: every change of an
    offer to one of your engineers (PENDING, ACCEPTED, REJECTED, TIMED_OUT,
    WITHDRAWN), each with a ``cursor`` one higher than the previous one.
    ``stream.cursor`` is the cursor of the last item handed to you.

    When the connection drops (dispatch restarts, a network failure,
    ``disconnect()``), the stream reconnects by itself with
    ``after_cursor=stream.cursor`` and goes on with the next item: nothing is
    lost and nothing comes twice. Dispatch sends a heartbeat every 15 s when
    there is nothing to say; a connection silent for ``stall_timeout`` seconds
    is taken as dead (a half-open TCP connection would otherwise wait forever)
    and replaced. Heartbeats are skipped unless ``heartbeats=True``.

    To survive YOUR process restarting, store ``item.cursor`` once you have
    handled the item, and pass it as ``after_cursor`` next time. Errors that a
    retry cannot fix (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT)
    are raised as ``grpc.RpcError`` and end the stream. ``close()`` ends the
    iteration (from any thread).
    """

    RETRY_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL,
                   grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                   grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED)

    def __init__(self, client: PartnerClient, partner_id: str, *, after_cursor: int = 0,
                 engineer_id: str = "", reconnect: bool = True, heartbeats: bool = False,
                 stall_timeout: float = 45.0, max_backoff: float = 5.0):
        self.client = client
        self.partner_id = partner_id
        self.engineer_id = engineer_id
        self.cursor = after_cursor
        self.reconnect = reconnect
        self.heartbeats = heartbeats
        self.stall_timeout = stall_timeout
        self.max_backoff = max_backoff
        self.connects = 0  # how many times the stream was opened
        self._lock = threading.Lock()
        self._call = None
        self._closed = False
        self._dropped = False
        self._waiting_since = None  # set while blocked reading from the connection
        self._backoff = 0.2
        self._open()  # at once: "from now" (cursor 0) starts here, not at the first next()
        if stall_timeout > 0:
            threading.Thread(target=self._watch_for_stalls, daemon=True).start()

    @property
    def closed(self) -> bool:
        return self._closed

    def _open(self) -> None:
        req = self.client.pb.WatchOffersRequest(partner_id=self.partner_id,
                                                after_cursor=self.cursor,
                                                engineer_id=self.engineer_id)
        # wait_for_ready: while dispatch is down, wait for it instead of failing.
        call = self.client.dispatch.WatchOffers(req, metadata=self.client.metadata(),
                                                wait_for_ready=True)
        with self._lock:
            self._call = call
            self._dropped = False
            self.connects += 1
            if self._closed:
                call.cancel()

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        while True:
            with self._lock:
                call, closed = self._call, self._closed
            if closed:
                raise StopIteration
            if call is None:
                self._open()
                continue
            self._waiting_since = time.monotonic()
            try:
                item = next(call)
            except StopIteration:  # the server ended the stream (it is shutting down)
                pass
            except grpc.RpcError as e:
                if self._closed:
                    raise StopIteration
                with self._lock:
                    dropped = self._dropped
                if not self.reconnect or not (dropped or e.code() in self.RETRY_CODES):
                    self.close()
                    raise
            else:
                self._waiting_since = time.monotonic() if item.heartbeat else None
                self._backoff = 0.2
                if item.heartbeat:
                    if self.heartbeats:
                        return item
                    continue
                if item.cursor <= self.cursor:  # defensive: never hand out an item twice
                    continue
                self.cursor = item.cursor
                return item
            # The connection is gone: reconnect from the last cursor.
            self._waiting_since = None
            with self._lock:
                self._call = None
                dropped = self._dropped
            if not self.reconnect:
                self.close()
                raise StopIteration
            if not dropped:  # a failure, not our own disconnect(): pause first
                time.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, self.max_backoff)

    def _watch_for_stalls(self) -> None:
        while not self._closed:
            time.sleep(min(1.0, self.stall_timeout / 4))
            since = self._waiting_since
            if since is not None and time.monotonic() - since > self.stall_timeout:
                self._waiting_since = None
                self.disconnect()

    def disconnect(self) -> None:
        """Drops the current connection, as a network failure would; the
        iteration goes on from ``self.cursor`` over a new one."""
        with self._lock:
            self._dropped = True
            if self._call is not None:
                self._call.cancel()

    def close(self) -> None:
        """Stops for good: the iteration ends with StopIteration."""
        with self._lock:
            self._closed = True
            if self._call is not None:
                self._call.cancel()


# ---------------------------------------------------------------------------
# 4. Command line
# ---------------------------------------------------------------------------


def _show(msg) -> str:
    """A protobuf message as readable text."""
    return text_format.MessageToString(msg, as_utf8=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Partner integration example for the after-sales suite.",
        epilog="Errors exit 1 and print 'error: <gRPC code>: <details>'.")
    p.add_argument("--intake", default="127.0.0.1:7101", help="intake host:port")
    p.add_argument("--dispatch", default="127.0.0.1:7102", help="dispatch host:port")
    p.add_argument("--token-file", required=True,
                   help="file with the bearer token, or 'name token' lines (var/secrets/tokens.plain)")
    p.add_argument("--as", dest="principal", default=None,
                   help="which line of --token-file, e.g. partner-demo or admin")
    p.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR, help="the suite's proto/ directory")
    p.add_argument("--stubs-dir", default=None,
                   help="cache for the generated Python code (default ~/.cache/aftersales-partner-client)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per unary call")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("upsert-partner", help="create/replace a partner network (admin token)")
    c.add_argument("--partner", required=True)
    c.add_argument("--name", required=True)
    c.add_argument("--brand", action="append", default=[], help="allowed brand (repeat); none = any")
    c.add_argument("--region", action="append", default=[], help="allowed region (repeat); none = any")
    c.add_argument("--preference", type=float, default=0.5)

    c = sub.add_parser("register-engineer", help="register one of your engineers")
    c.add_argument("--partner", required=True)
    c.add_argument("--engineer", required=True)
    c.add_argument("--name", required=True, help="display name shown to customers")
    c.add_argument("--skill", action="append", required=True, metavar="CATEGORY=LEVEL",
                   help="e.g. FRIDGE=INTERMEDIATE (repeat)")
    c.add_argument("--region", action="append", default=[], help="covered region code (repeat)")
    c.add_argument("--lat", type=float)
    c.add_argument("--lng", type=float)
    c.add_argument("--max-active", type=int, default=0)
    c.add_argument("--max-queued", type=int, default=0)

    c = sub.add_parser("report-location", help="an engineer's live position (keep it fresh)")
    c.add_argument("--engineer", required=True)
    c.add_argument("--lat", type=float, required=True)
    c.add_argument("--lng", type=float, required=True)

    c = sub.add_parser("create-order", help="open a work order (idempotent per --request-id)")
    c.add_argument("--request-id", required=True, help="your idempotency key, e.g. a ticket number")
    c.add_argument("--customer", required=True)
    c.add_argument("--region", required=True)
    c.add_argument("--city-tier", type=int, default=1)
    c.add_argument("--lat", type=float, required=True)
    c.add_argument("--lng", type=float, required=True)
    c.add_argument("--category", required=True, help="appliance category, e.g. FRIDGE")
    c.add_argument("--brand", default="")
    c.add_argument("--model", default="")
    c.add_argument("--serial", required=True)
    c.add_argument("--description", required=True, help="the fault in the customer's words")
    c.add_argument("--contact-name", required=True)
    c.add_argument("--phone", required=True)
    c.add_argument("--address", required=True)
    c.add_argument("--extra", default=None, help="more CreateOrderRequest fields as protobuf JSON")

    c = sub.add_parser("get-order", help="show an order")
    c.add_argument("--order", required=True)
    c.add_argument("--full", action="store_true", help="print every field of the order")

    c = sub.add_parser("list-offers", help="list your offers (newest first)")
    c.add_argument("--partner", default="")
    c.add_argument("--order", default="")
    c.add_argument("--engineer", default="")
    c.add_argument("--state", default=None, help="PENDING, ACCEPTED, ...")

    c = sub.add_parser("watch-offers", help="stream your offers, resuming from a saved cursor")
    c.add_argument("--partner", required=True)
    c.add_argument("--after-cursor", type=int, default=None,
                   help="resume after this cursor (default: the --cursor-file's, else 0 = from now)")
    c.add_argument("--cursor-file", default=None,
                   help="read the cursor to resume from and write each handled cursor here")
    c.add_argument("--engineer", default="", help="only this engineer's offers")
    c.add_argument("--accept", action="store_true", help="accept every PENDING offer")
    c.add_argument("--max-items", type=int, default=0, help="stop after this many items (0 = never)")
    c.add_argument("--idle-exit", type=float, default=0,
                   help="stop when no item came for this many seconds (0 = never)")

    for name, helptext in (("accept", "accept an offer"), ("reject", "reject an offer")):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("--offer", required=True)
        c.add_argument("--engineer", required=True)
        if name == "reject":
            c.add_argument("--reason", default="BUSY", help="BUSY, TOO_FAR, OFF_SHIFT, ...")
            c.add_argument("--note", default="")

    c = sub.add_parser("progress", help="report a milestone (idempotent per --event-id)")
    c.add_argument("--order", required=True)
    c.add_argument("--milestone", required=True, choices=MILESTONES)
    c.add_argument("--event-id", required=True, help="your idempotency key for this report")
    c.add_argument("--engineer", default="")
    c.add_argument("--device-time", default=None, help="RFC 3339, when it happened on the device")
    c.add_argument("--details", default=None,
                   help='the milestone\'s fields as protobuf JSON, e.g. \'{"diagnosis": '
                        '{"initialCauseCode": "COMPRESSOR"}}\'')

    c = sub.add_parser("sync-offline", help="send a buffered batch of reports (JSON file)")
    c.add_argument("--device", required=True, help="engineer terminal id")
    c.add_argument("--file", required=True,
                   help="JSON list of ProgressReport objects (protobuf JSON), in device order")
    return p


def _load_cursor(path: Optional[str]) -> int:
    if path and os.path.exists(path):
        with open(path) as f:
            text = f.read().strip()
        return int(text or 0)
    return 0


def _save_cursor(path: str, cursor: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{cursor}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: a crash leaves the old or the new cursor


def _watch(client: PartnerClient, args) -> int:
    after = args.after_cursor if args.after_cursor is not None else _load_cursor(args.cursor_file)
    stream = client.watch_offers(args.partner, after_cursor=after, engineer_id=args.engineer)
    # SIGTERM (kill, systemd stop) ends the watch like Ctrl-C: cleanly, exit 0.
    signal.signal(signal.SIGTERM, lambda *_: stream.close())
    print(f"watching offers of {args.partner} after cursor {after}", file=sys.stderr, flush=True)
    timer = None
    if args.idle_exit > 0:
        last = [time.monotonic()]

        def idle_watchdog():
            while not stream.closed:
                if time.monotonic() - last[0] > args.idle_exit:
                    stream.close()
                    return
                time.sleep(0.1)

        timer = threading.Thread(target=idle_watchdog, daemon=True)
        timer.start()
    seen = 0
    try:
        for item in stream:
            offer = item.offer
            state = client.pb.OfferState.Name(offer.state).replace("OFFER_STATE_", "")
            print(f"cursor={item.cursor} offer={offer.offer_id} order={offer.order_id} "
                  f"engineer={offer.engineer_id} state={state}", flush=True)
            if args.accept and offer.state == client.pb.OFFER_STATE_PENDING:
                try:
                    accepted = client.accept_offer(offer.offer_id, offer.engineer_id)
                    print(f"accepted offer={accepted.offer_id}", flush=True)
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
                        raise
                    # Timed out or withdrawn meanwhile: its next change is on the stream.
                    print(f"not accepted offer={offer.offer_id}: {e.details()}", flush=True)
            if args.cursor_file:  # only after the item was handled
                _save_cursor(args.cursor_file, item.cursor)
            seen += 1
            if timer is not None:
                last[0] = time.monotonic()
            if args.max_items and seen >= args.max_items:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stream.close()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        token = read_token(args.token_file, args.principal)
        pb = load_stubs(args.proto_dir, args.stubs_dir)
    except (OSError, ValueError, StubGenerationError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    client = PartnerClient(args.intake, args.dispatch, token, pb=pb, timeout=args.timeout)
    try:
        cmd = args.command
        if cmd == "upsert-partner":
            p = client.upsert_partner(args.partner, args.name, allowed_brands=args.brand,
                                      allowed_regions=args.region, preference=args.preference)
            print(f"partner={p.partner_id} name={json.dumps(p.name, ensure_ascii=False)} "
                  f"brands={','.join(p.allowed_brands) or '*'} "
                  f"regions={','.join(p.allowed_regions) or '*'} preference={p.preference:g}")
        elif cmd == "register-engineer":
            skills = dict(s.split("=", 1) for s in args.skill)
            location = (args.lat, args.lng) if args.lat is not None and args.lng is not None else None
            e = client.register_engineer(args.engineer, args.partner, args.name, skills=skills,
                                         regions=args.region, location=location,
                                         max_active=args.max_active, max_queued=args.max_queued)
            print(f"engineer={e.engineer_id} partner={e.partner_id} "
                  f"status={pb.EngineerStatus.Name(e.status)} version={e.version}")
        elif cmd == "report-location":
            r = client.report_location(args.engineer, args.lat, args.lng)
            print(f"engineer={args.engineer} applied={str(r.applied).lower()}")
        elif cmd == "create-order":
            r = client.create_order(
                request_id=args.request_id, customer_id=args.customer, region_code=args.region,
                city_tier=args.city_tier, location=(args.lat, args.lng), category=args.category,
                brand=args.brand, model=args.model, serial=args.serial,
                description=args.description, contact_name=args.contact_name, phone=args.phone,
                address=args.address, extra=json.loads(args.extra) if args.extra else None)
            print(f"order={r.order.order_id} created={str(r.created).lower()} "
                  f"linked_to_open_order={str(r.linked_to_open_order).lower()} "
                  f"state={pb.OrderState.Name(r.order.state)} "
                  f"priority={pb.Priority.Name(r.order.priority)}")
        elif cmd == "get-order":
            o = client.get_order(args.order)
            if args.full:
                print(_show(o), end="")
            print(f"order={o.order_id} state={pb.OrderState.Name(o.state)} "
                  f"engineer={o.assignment.engineer_id or '-'} version={o.version}")
        elif cmd == "list-offers":
            for o in client.list_offers(partner_id=args.partner, order_id=args.order,
                                        engineer_id=args.engineer, state=args.state):
                print(f"offer={o.offer_id} order={o.order_id} engineer={o.engineer_id} "
                      f"state={pb.OfferState.Name(o.state).replace('OFFER_STATE_', '')}")
        elif cmd == "watch-offers":
            return _watch(client, args)
        elif cmd == "accept":
            o = client.accept_offer(args.offer, args.engineer)
            print(f"offer={o.offer_id} state={pb.OfferState.Name(o.state)}")
        elif cmd == "reject":
            o = client.reject_offer(args.offer, args.engineer, args.reason, args.note)
            print(f"offer={o.offer_id} state={pb.OfferState.Name(o.state)}")
        elif cmd == "progress":
            r = client.report_progress(
                args.order, args.milestone, event_id=args.event_id, engineer_id=args.engineer,
                device_time=args.device_time,
                details=json.loads(args.details) if args.details else None)
            print(f"order={r.result.order_id} result={pb.ProgressResultCode.Name(r.result.code)} "
                  f"state={pb.OrderState.Name(r.result.state_after)} version={r.result.order_version}")
        elif cmd == "sync-offline":
            with open(args.file) as f:
                batch = json.load(f)
            reports = [json_format.ParseDict(x, pb.ProgressReport()) for x in batch]
            for res in client.sync_offline(args.device, reports):
                print(f"event={res.client_event_id} order={res.order_id} "
                      f"result={pb.ProgressResultCode.Name(res.code)} "
                      f"state={pb.OrderState.Name(res.state_after)}"
                      + (f" message={res.message!r}" if res.message else ""))
        return 0
    except grpc.RpcError as e:
        print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    except (OSError, ValueError, json_format.ParseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
