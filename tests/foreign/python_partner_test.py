#!/usr/bin/python3
"""The foreign client: a partner network integrating from Python.

Starts REAL intake and dispatch processes (manual clocks, loopback, free
ports, their own data directories, a tokens file of SHA-256 hashes, the
shipped policies) and drives them only through examples/python/partner_client.py
-- as a library and as the command-line tool the README shows -- with stubs
generated from proto/ at run time by this machine's protobuf compiler.

Covered: engineers registered by their partner, idempotent order creation,
the offer feed (from now, resumed from a saved cursor after the client went
away, and automatically after dispatch restarted), acceptance reaching intake,
progress reports and an offline batch, and bad calls (wrong token, another
partner's offer and order). Both services must stop on SIGTERM with exit 0.

Environment: AFTERSALES_BIN_DIR (the build's services/ directory) and
AFTERSALES_SOURCE_DIR (the repository), set by tests/foreign/CMakeLists.txt.
Run by hand: /usr/bin/python3 tests/foreign/python_partner_test.py -v
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import hashlib
import unittest

SOURCE_DIR = os.path.abspath(os.environ.get("AFTERSALES_SOURCE_DIR") or
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN_DIR = os.path.abspath(os.environ.get("AFTERSALES_BIN_DIR") or
                          os.path.join(SOURCE_DIR, "build", "services"))
CLIENT = os.path.join(SOURCE_DIR, "examples", "python", "partner_client.py")
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(CLIENT))

try:
    import grpc
    import partner_client as pc
except ImportError as e:  # fail, never skip: the suite promises this client works
    sys.stderr.write(f"python_partner_test: {e}\n  /usr/bin/python3 needs Debian's "
                     "python3-grpcio and python3-protobuf\n")
    raise

# Monday 2026-11-23 10:00 in Shanghai: inside the region's service hours.
CLOCK_START = "2026-11-23T02:00:00Z"
REGION = "CN-310000"
HOME = (31.230, 121.470)  # where PA's engineers and the customers are

# Principals of the tokens file: name -> "principal-id role [attributes]".
PRINCIPALS = {
    "admin": "admin-1 admin",
    "agent": "agent-1 agent",
    "service": "svc-suite service",
    "partner-a": "partner-a partner partner=PA",
    "partner-b": "partner-b partner partner=PB",
}

Code = grpc.StatusCode


def eventually(condition, timeout=20.0, interval=0.05):
    """Polls condition() until it returns something truthy; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)


class Service:
    """One of the suite's services as a real process on a loopback port."""

    def __init__(self, name, root, tokens_file, service_token_file):
        self.name = name
        self.data_dir = os.path.join(root, name)
        self.log_file = os.path.join(root, name + ".log")
        self.tokens_file = tokens_file
        self.service_token_file = service_token_file
        self.peers = {}
        self.grpc_port = 0
        self.starts = 0
        self.process = None
        self.binary = os.path.join(BIN_DIR, name, name)
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"{self.binary} not built (AFTERSALES_BIN_DIR={BIN_DIR})")

    @property
    def address(self):
        return f"127.0.0.1:{self.grpc_port}"

    def start(self):
        self.starts += 1
        port_file = f"{self.data_dir}.ports.{self.starts}"
        argv = [self.binary,
                f"--data_dir={self.data_dir}",
                f"--tokens_file={self.tokens_file}",
                f"--service_token_file={self.service_token_file}",
                "--listen_host=127.0.0.1",
                f"--grpc_port={self.grpc_port}",  # 0 the first time, then the same port again
                "--metrics_port=0",
                f"--port_file={port_file}",
                "--clock=manual",
                f"--clock_start={CLOCK_START}",
                f"--policy_file={SOURCE_DIR}/deploy/policies/{self.name}.textproto"]
        argv += [f"--{peer}_addr={addr}" for peer, addr in sorted(self.peers.items())]
        log = open(self.log_file, "a")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()

        def ports():
            if self.process.poll() is not None:
                return "exited"
            try:
                with open(port_file) as f:
                    kv = dict(line.strip().split("=", 1) for line in f if "=" in line)
                return int(kv.get("grpc_port", "0")) or None
            except (OSError, ValueError):
                return None

        port = eventually(ports, timeout=30)
        if port in (None, "exited"):
            raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
        self.grpc_port = port
        with grpc.insecure_channel(self.address) as ch:
            grpc.channel_ready_future(ch).result(timeout=30)

    def stop(self):
        """SIGTERM and wait; returns the exit code (negative: killed by a signal)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "still running 30 s after SIGTERM (killed)"

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines=30):
        try:
            with open(self.log_file, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


class FeedReader:
    """Reads an OfferStream on a thread, the way a partner's feed worker does."""

    def __init__(self, stream):
        self.stream = stream
        self.items = queue.Queue()
        self.received = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for item in self.stream:
                self.items.put(item)
        except Exception as e:  # surfaced by next()
            self.error = e
            self.items.put(e)

    def next(self, timeout=20.0):
        try:
            item = self.items.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no offer feed item within {timeout} s "
                                 f"(cursor {self.stream.cursor})") from None
        if isinstance(item, Exception):
            raise AssertionError(f"offer stream failed: {item}") from item
        self.received.append(item)
        return item

    def stop(self):
        self.stream.close()
        self.thread.join(10)
        if self.thread.is_alive():
            raise AssertionError("offer stream did not close")


class PythonPartnerTest(unittest.TestCase):
    """One suite of real processes for all tests (they run in name order)."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="aftersales-python-partner-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        # Generated at run time from proto/, into this run's own directory.
        cls.pb = pc.load_stubs(os.path.join(SOURCE_DIR, "proto"), os.path.join(cls.root, "stubs"))

        # Tokens: the services get SHA-256 hashes (libs/auth/auth.h), the
        # clients the plain tokens, in run.sh's tokens.plain format.
        cls.tokens = {name: f"py-{name}-{os.getpid()}-{os.urandom(8).hex()}" for name in PRINCIPALS}
        cls.tokens_file = os.path.join(cls.root, "tokens.txt")
        cls.tokens_plain = os.path.join(cls.root, "tokens.plain")
        cls.service_token_file = os.path.join(cls.root, "service.token")
        with open(cls.tokens_file, "w") as hashes, open(cls.tokens_plain, "w") as plain:
            hashes.write("# test principals\n")
            plain.write("# name token\n")
            for name, line in PRINCIPALS.items():
                digest = hashlib.sha256(cls.tokens[name].encode()).hexdigest()
                hashes.write(f"sha256:{digest} {line}\n")
                plain.write(f"{name} {cls.tokens[name]}\n")
        with open(cls.service_token_file, "w") as f:
            f.write(cls.tokens["service"] + "\n")

        # intake, then dispatch following intake, then intake again pointed at
        # dispatch so that it hears the offers (as tests/integration/dispatch_test.cc).
        cls.intake = Service("intake", cls.root, cls.tokens_file, cls.service_token_file)
        cls.dispatch = Service("dispatch", cls.root, cls.tokens_file, cls.service_token_file)
        cls.addClassCleanup(cls.intake.kill)
        cls.addClassCleanup(cls.dispatch.kill)
        cls.intake.start()
        cls.dispatch.peers["intake"] = cls.intake.address
        cls.dispatch.start()
        cls.intake.peers["dispatch"] = cls.dispatch.address
        rc = cls.intake.stop()
        if rc != 0:
            raise AssertionError(f"intake exited {rc} on SIGTERM:\n{cls.intake.log_tail()}")
        cls.intake.start()

        cls.clients = []
        cls.admin = cls.client("admin")
        cls.pa = cls.client("partner-a")
        cls.partner_b = cls.client("partner-b")
        for pid in ("PA", "PB"):
            cls.admin.upsert_partner(pid, f"partner {pid}", allowed_regions=[REGION])
        # Partner A's two engineers, registered by partner A itself.
        cls.engineers = {}
        for eid, (lat, lng) in (("E-A1", HOME), ("E-A2", (HOME[0] + 0.005, HOME[1] + 0.005))):
            cls.engineers[eid] = cls.pa.register_engineer(
                eid, "PA", f"Engineer {eid}", skills={"FRIDGE": "INTERMEDIATE"},
                regions=[REGION], location=(lat, lng), max_active=2, max_queued=6)
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        # Consumers first, as run.sh does; both must exit 0 on SIGTERM.
        for c in cls.clients:
            c.close()
        problems = []
        for svc in (cls.dispatch, cls.intake):
            rc = svc.stop()
            if rc != 0:
                problems.append(f"{svc.name} exited {rc} on SIGTERM:\n{svc.log_tail()}")
        if problems:
            raise AssertionError("\n".join(problems))

    @classmethod
    def client(cls, who, token=None):
        c = pc.PartnerClient(cls.intake.address, cls.dispatch.address,
                             token if token is not None else cls.tokens[who], pb=cls.pb)
        cls.clients.append(c)
        return c

    # --- helpers -----------------------------------------------------------

    def new_order(self, client=None, request_id=None, **overrides):
        """Creates an order near partner A's engineers with a fresh serial."""
        type(self).serial += 1
        n = type(self).serial
        args = dict(request_id=request_id or f"pa-ticket-{n}", customer_id=f"C{n:03d}",
                    region_code=REGION, city_tier=1, location=(HOME[0] + 0.001, HOME[1] + 0.001),
                    category="FRIDGE", brand="ACME", serial=f"SN-PY-{n}",
                    description="door seal is loose", contact_name="Zhang San",
                    phone="13812345678", address="Shanghai, Century Avenue 100, room 1201")
        args.update(overrides)
        return (client or self.pa).create_order(**args)

    def open_feed(self, client=None, partner="PA", after_cursor=0):
        reader = FeedReader((client or self.pa).watch_offers(partner, after_cursor=after_cursor))
        self.addCleanup(reader.stop)
        if after_cursor == 0:
            # "From now" is taken when dispatch handles the call; give it that moment.
            time.sleep(0.5)
        return reader

    def assert_code(self, code, fn, *args, **kwargs):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        return cm.exception

    def wait_assigned(self, order_id, engineer_id):
        o = eventually(lambda: (lambda o: o if o.assignment.engineer_id == engineer_id else None)(
            self.pa.get_order(order_id)))
        self.assertTrue(o, f"intake never heard that {engineer_id} accepted {order_id}")
        return o

    def state_name(self, state):
        return self.pb.OrderState.Name(state)

    # --- tests -------------------------------------------------------------

    def test_1_create_offer_accept_and_progress(self):
        pb = self.pb
        self.assertTrue(self.pb.stubs_dir.startswith(self.root))  # compiled in this run
        # Engineers: registration is idempotent per id; other data is ALREADY_EXISTS.
        again = self.pa.register_engineer(
            "E-A1", "PA", "Engineer E-A1", skills={"FRIDGE": "INTERMEDIATE"}, regions=[REGION],
            location=HOME, max_active=2, max_queued=6)
        self.assertEqual(again.version, self.engineers["E-A1"].version)
        self.assertEqual(again.status, pb.ENGINEER_STATUS_AVAILABLE)
        self.assert_code(Code.ALREADY_EXISTS, self.pa.register_engineer, "E-A1", "PA",
                         "Somebody Else", skills={"FRIDGE": "INTERMEDIATE"}, regions=[REGION])

        feed = self.open_feed()
        created = self.new_order(request_id="pa-ticket-flow")
        order = created.order
        self.assertTrue(created.created)
        self.assertEqual(order.state, pb.ORDER_STATE_CREATED)
        self.assertEqual(order.channel, pb.CHANNEL_PARTNER_API)
        # A retry with the same request id returns the same order...
        retry = self.pa.create_order(
            request_id="pa-ticket-flow", customer_id=f"C{self.serial:03d}", region_code=REGION,
            city_tier=1, location=(HOME[0] + 0.001, HOME[1] + 0.001), category="FRIDGE",
            brand="ACME", serial=f"SN-PY-{self.serial}", description="door seal is loose",
            contact_name="Zhang San", phone="13812345678",
            address="Shanghai, Century Avenue 100, room 1201")
        self.assertFalse(retry.created)
        self.assertEqual(retry.order.order_id, order.order_id)
        # ...and the same id with another body is refused.
        self.assert_code(Code.ALREADY_EXISTS, self.new_order, request_id="pa-ticket-flow",
                         description="something else entirely")

        # The offer arrives on partner A's feed: the first change of its feed.
        item = feed.next()
        offer = item.offer
        self.assertEqual(item.cursor, 1)
        self.assertEqual(offer.state, pb.OFFER_STATE_PENDING)
        self.assertEqual(offer.order_id, order.order_id)
        self.assertEqual(offer.partner_id, "PA")
        self.assertIn(offer.engineer_id, self.engineers)
        self.assertEqual(offer.job.appliance_category, "FRIDGE")
        self.assertNotIn("13812345678", str(offer))  # offers carry no PII
        self.assertNotIn("Century Avenue", str(offer))

        # Partner B cannot take partner A's offer.
        self.assert_code(Code.NOT_FOUND, self.partner_b.accept_offer, offer.offer_id,
                         offer.engineer_id)
        accepted = self.pa.accept_offer(offer.offer_id, offer.engineer_id)
        self.assertEqual(accepted.state, pb.OFFER_STATE_ACCEPTED)
        self.assertEqual(self.pa.accept_offer(offer.offer_id, offer.engineer_id).state,
                         pb.OFFER_STATE_ACCEPTED)  # idempotent
        item = feed.next()
        self.assertEqual(item.cursor, 2)
        self.assertEqual((item.offer.offer_id, item.offer.state),
                         (offer.offer_id, pb.OFFER_STATE_ACCEPTED))

        # Intake hears it; the customer was not contacted yet, so the
        # assignment is latched and takes effect at first contact.
        o = self.wait_assigned(order.order_id, offer.engineer_id)
        self.assertEqual(o.assignment.partner_id, "PA")
        self.assertEqual(o.assignment.offer_id, offer.offer_id)
        self.assertEqual(o.state, pb.ORDER_STATE_CREATED)

        eng = offer.engineer_id
        r = self.pa.report_progress(order.order_id, "contacted", event_id="flow/contacted",
                                    engineer_id=eng)
        self.assertEqual(r.result.code, pb.PROGRESS_RESULT_CODE_APPLIED)
        self.assertEqual(self.state_name(r.result.state_after), "ORDER_STATE_ASSIGNED")
        self.assertEqual(self.pa.get_order(order.order_id).state, pb.ORDER_STATE_ASSIGNED)
        # A retry of the same report changes nothing.
        dup = self.pa.report_progress(order.order_id, "contacted", event_id="flow/contacted",
                                      engineer_id=eng)
        self.assertEqual(dup.result.code, pb.PROGRESS_RESULT_CODE_DUPLICATE)
        self.assertEqual(dup.result.order_version, r.result.order_version)

        steps = [("departed", {"location": {"latDeg": HOME[0], "lngDeg": HOME[1]}},
                  "ORDER_STATE_EN_ROUTE"),
                 ("arrived", {}, "ORDER_STATE_ON_SITE"),
                 ("diagnosed", {"diagnosis": {"initialCauseCode": "DOOR_SEAL",
                                              "kind": "FAULT_KIND_HARDWARE",
                                              "partsNeeded": False}}, "ORDER_STATE_DIAGNOSED"),
                 ("repaired", {"result": {"finalCauseCode": "DOOR_SEAL", "firstVisitFix": True,
                                          "visitCount": 1},
                               "maintenanceAdvice": "clean the seal monthly"},
                  "ORDER_STATE_REPAIRED")]
        for milestone, details, want in steps:
            r = self.pa.report_progress(order.order_id, milestone, event_id=f"flow/{milestone}",
                                        engineer_id=eng, details=details)
            self.assertEqual(r.result.code, pb.PROGRESS_RESULT_CODE_APPLIED, milestone)
            self.assertEqual(self.state_name(r.result.state_after), want, milestone)
        final = self.pa.get_order(order.order_id)
        self.assertEqual(final.state, pb.ORDER_STATE_REPAIRED)
        self.assertTrue(final.repair.diagnosis_matched)
        self.assertEqual([self.state_name(t.to_state) for t in final.transitions][-6:],
                         ["ORDER_STATE_CONTACTED", "ORDER_STATE_ASSIGNED", "ORDER_STATE_EN_ROUTE",
                          "ORDER_STATE_ON_SITE", "ORDER_STATE_DIAGNOSED", "ORDER_STATE_REPAIRED"])
        self.assertEqual(final.transitions[-1].actor.principal_id, "partner-a")
        # A milestone the state does not allow names the state and changes nothing.
        err = self.assert_code(Code.FAILED_PRECONDITION, self.pa.report_progress, order.order_id,
                               "arrived", event_id="flow/arrived-again", engineer_id=eng)
        self.assertIn("REPAIRED", err.details())
        self.assertEqual(self.pa.get_order(order.order_id).version, final.version)

    def test_2_offer_stream_resumes_from_the_last_cursor(self):
        pb = self.pb
        # (a) A feed from now on, one order offered.
        feed1 = self.open_feed()
        o2 = self.new_order().order
        first = feed1.next()
        self.assertEqual((first.offer.order_id, first.offer.state), (o2.order_id, pb.OFFER_STATE_PENDING))
        start = first.cursor

        # (b) The partner's system goes away; its last handled cursor is saved.
        feed1.stop()
        saved = feed1.stream.cursor
        self.assertEqual(saved, start)
        # Meanwhile: the offer is accepted (by another of the partner's
        # systems) and a new order is offered.
        self.pa.accept_offer(first.offer.offer_id, first.offer.engineer_id)
        o3 = self.new_order().order
        self.assertTrue(eventually(lambda: self.pa.list_offers(order_id=o3.order_id)),
                        "no offer for the order made while the partner was away")
        # It comes back with the saved cursor: exactly what it missed, in order.
        feed2 = self.open_feed(after_cursor=saved)
        missed = [feed2.next(), feed2.next()]
        self.assertEqual([(m.offer.order_id, m.offer.state) for m in missed],
                         [(o2.order_id, pb.OFFER_STATE_ACCEPTED), (o3.order_id, pb.OFFER_STATE_PENDING)])
        self.pa.accept_offer(missed[1].offer.offer_id, missed[1].offer.engineer_id)
        self.assertEqual(feed2.next().offer.state, pb.OFFER_STATE_ACCEPTED)

        # (c) Dispatch restarts under the open stream: the stream reconnects by
        # itself from its cursor. An order created while dispatch is down is
        # offered once it is back, and arrives on the same stream.
        connects = feed2.stream.connects
        rc = self.dispatch.stop()
        self.assertEqual(rc, 0, f"dispatch exited {rc} on SIGTERM:\n{self.dispatch.log_tail()}")
        o4 = self.new_order().order
        self.dispatch.start()  # same port, same data
        item = feed2.next(timeout=30)
        self.assertEqual((item.offer.order_id, item.offer.state), (o4.order_id, pb.OFFER_STATE_PENDING))
        self.assertGreater(feed2.stream.connects, connects)
        self.pa.accept_offer(item.offer.offer_id, item.offer.engineer_id)
        self.assertEqual(feed2.next().offer.state, pb.OFFER_STATE_ACCEPTED)

        # (d) A dropped connection (as by a network failure) resumes too.
        connects = feed2.stream.connects
        feed2.stream.disconnect()
        o5 = self.new_order().order
        item = feed2.next()
        self.assertEqual((item.offer.order_id, item.offer.state), (o5.order_id, pb.OFFER_STATE_PENDING))
        self.assertGreater(feed2.stream.connects, connects)
        self.pa.accept_offer(item.offer.offer_id, item.offer.engineer_id)
        self.assertEqual(feed2.next().offer.state, pb.OFFER_STATE_ACCEPTED)

        # (e) A connection that stays silent (no item, no heartbeat) for the
        # stall timeout is taken as dead and replaced, from the cursor again.
        feed2.stop()
        feed3 = FeedReader(self.pa.watch_offers("PA", after_cursor=feed2.stream.cursor,
                                                stall_timeout=0.3))
        self.addCleanup(feed3.stop)
        self.assertTrue(eventually(lambda: feed3.stream.connects >= 3, timeout=10),
                        f"stalled stream not replaced ({feed3.stream.connects} connects)")
        o6 = self.new_order().order
        item = feed3.next()
        self.assertEqual((item.offer.order_id, item.offer.state), (o6.order_id, pb.OFFER_STATE_PENDING))
        self.pa.accept_offer(item.offer.offer_id, item.offer.engineer_id)
        self.assertEqual(feed3.next().offer.state, pb.OFFER_STATE_ACCEPTED)

        # No duplicate and no gap across all of it.
        received = feed1.received + feed2.received + feed3.received
        cursors = [m.cursor for m in received]
        self.assertEqual(cursors, list(range(start, start + len(cursors))), cursors)
        self.assertEqual(len(cursors), 10)  # 5 orders: offered and accepted
        # And the feed agrees with dispatch's own record of every offer.
        latest = {m.offer.offer_id: m.offer.state for m in received}
        for oid in (o2.order_id, o3.order_id, o4.order_id, o5.order_id, o6.order_id):
            offers = self.pa.list_offers(order_id=oid)
            self.assertEqual(len(offers), 1, oid)
            self.assertEqual(offers[0].state, pb.OFFER_STATE_ACCEPTED, oid)
            self.assertEqual(latest.get(offers[0].offer_id), offers[0].state, oid)
            self.wait_assigned(oid, offers[0].engineer_id)

    def test_3_bad_calls_change_nothing(self):
        pb = self.pb
        feed = self.open_feed()
        order = self.new_order().order
        pending = feed.next()
        offer = pending.offer
        self.assertEqual(offer.state, pb.OFFER_STATE_PENDING)
        version = self.pa.get_order(order.order_id).version

        # Wrong token, missing token: UNAUTHENTICATED on every call.
        for bad in (self.client("x", token="not-a-token"), self.client("x", token="")):
            self.assert_code(Code.UNAUTHENTICATED, self.new_order, client=bad)
            self.assert_code(Code.UNAUTHENTICATED, bad.accept_offer, offer.offer_id, offer.engineer_id)
            self.assert_code(Code.UNAUTHENTICATED, bad.report_progress, order.order_id,
                             "contacted", event_id="bad/contacted")
            self.assert_code(Code.UNAUTHENTICATED, bad.register_engineer, "E-X", "PA", "x",
                             skills={"FRIDGE": "JUNIOR"})
            with self.assertRaises(grpc.RpcError) as cm:  # not retried: the token will not heal
                next(iter(bad.watch_offers("PA")))
            self.assertEqual(cm.exception.code(), Code.UNAUTHENTICATED)

        # Another partner's offer, order and feed.
        self.assert_code(Code.NOT_FOUND, self.partner_b.accept_offer, offer.offer_id, offer.engineer_id)
        self.assert_code(Code.NOT_FOUND, self.partner_b.reject_offer, offer.offer_id,
                         offer.engineer_id, "BUSY")
        self.assert_code(Code.NOT_FOUND, self.partner_b.get_order, order.order_id)
        self.assert_code(Code.NOT_FOUND, self.partner_b.report_progress, order.order_id,
                         "contacted", event_id="pb/contacted")
        self.assert_code(Code.PERMISSION_DENIED, self.partner_b.register_engineer, "E-B9", "PA",
                         "x", skills={"FRIDGE": "JUNIOR"})
        with self.assertRaises(grpc.RpcError) as cm:
            next(iter(self.partner_b.watch_offers("PA")))
        self.assertEqual(cm.exception.code(), Code.PERMISSION_DENIED)
        self.assertEqual(self.partner_b.list_offers(partner_id="PB"), [])

        # Malformed input names the field.
        err = self.assert_code(Code.INVALID_ARGUMENT, self.new_order, phone="")
        self.assertTrue(err.details().startswith("contact.phone"), err.details())
        err = self.assert_code(Code.INVALID_ARGUMENT, self.pa.accept_offer, "", offer.engineer_id)
        self.assertTrue(err.details().startswith("offer_id"), err.details())
        self.assert_code(Code.NOT_FOUND, self.pa.accept_offer, "no-such-offer", offer.engineer_id)
        self.assert_code(Code.NOT_FOUND, self.pa.report_progress, "no-such-order", "contacted",
                         event_id="x/contacted")
        # Field milestones need the order assigned to one of the partner's engineers.
        self.assert_code(Code.PERMISSION_DENIED, self.pa.report_progress, order.order_id,
                         "departed", event_id="early/departed")

        # Nothing changed: the offer is still pending, the order untouched,
        # and the next feed item is the partner's own next change.
        [still] = self.pa.list_offers(order_id=order.order_id)
        self.assertEqual(still.state, pb.OFFER_STATE_PENDING)
        self.assertEqual(self.pa.get_order(order.order_id).version, version)
        self.pa.reject_offer(offer.offer_id, offer.engineer_id, "TOO_FAR", "across the river")
        item = feed.next()
        self.assertEqual(item.cursor, pending.cursor + 1)
        self.assertEqual((item.offer.offer_id, item.offer.state),
                         (offer.offer_id, pb.OFFER_STATE_REJECTED))
        # The order moves on to partner A's other engineer.
        item = feed.next()
        self.assertEqual(item.offer.order_id, order.order_id)
        self.assertEqual(item.offer.state, pb.OFFER_STATE_PENDING)
        self.assertNotEqual(item.offer.engineer_id, offer.engineer_id)

    def test_4_offline_batch(self):
        pb = self.pb
        feed = self.open_feed()
        order = self.new_order().order
        offer = feed.next().offer
        self.assertEqual(offer.order_id, order.order_id)
        self.pa.accept_offer(offer.offer_id, offer.engineer_id)
        self.wait_assigned(order.order_id, offer.engineer_id)

        def report(milestone, minute, **details):
            return self.pa.progress_report(order.order_id, milestone,
                                           event_id=f"dev-7/{order.order_id}/{milestone}",
                                           engineer_id=offer.engineer_id,
                                           device_time=f"2026-11-23T02:{minute:02d}:00Z",
                                           details=details)

        batch = [report("contacted", 5), report("departed", 10), report("arrived", 40)]
        results = self.pa.sync_offline("dev-7", batch)
        self.assertEqual([pb.ProgressResultCode.Name(r.code) for r in results],
                         ["PROGRESS_RESULT_CODE_APPLIED"] * 3)
        self.assertEqual(results[-1].state_after, pb.ORDER_STATE_ON_SITE)
        o = self.pa.get_order(order.order_id)
        arrived = [t for t in o.transitions if t.to_state == pb.ORDER_STATE_ON_SITE][0]
        self.assertEqual(arrived.actor.device_time.ToJsonString(), "2026-11-23T02:40:00Z")
        # Replaying the batch (the terminal did not see the answer) changes nothing.
        replay = self.pa.sync_offline("dev-7", batch)
        self.assertEqual([r.code for r in replay], [pb.PROGRESS_RESULT_CODE_DUPLICATE] * 3)
        self.assertEqual(self.pa.get_order(order.order_id).version, o.version)
        # A rejected report skips the later reports of the same order.
        bad = [report("departed", 45), report("diagnosed", 50,
                                              diagnosis={"initialCauseCode": "DOOR_SEAL"})]
        bad[0].client_event_id += "/again"
        results = self.pa.sync_offline("dev-7", bad)
        self.assertEqual([r.code for r in results],
                         [pb.PROGRESS_RESULT_CODE_REJECTED, pb.PROGRESS_RESULT_CODE_SKIPPED])
        self.assertEqual(results[0].status_code, Code.FAILED_PRECONDITION.value[0])
        self.assertEqual(self.pa.get_order(order.order_id).state, pb.ORDER_STATE_ON_SITE)

    def test_5_command_line(self):
        """The commands examples/README.md shows, against this suite."""
        base = [sys.executable, CLIENT, "--intake", self.intake.address,
                "--dispatch", self.dispatch.address, "--token-file", self.tokens_plain,
                "--stubs-dir", os.path.join(self.root, "stubs")]

        def cli(who, *args, ok=True):
            r = subprocess.run(base + ["--as", who] + list(args), capture_output=True,
                               text=True, timeout=60)
            if ok:
                self.assertEqual(r.returncode, 0, f"{args}: {r.stdout}{r.stderr}")
            return r

        def fields(line):
            return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)

        feed = self.open_feed()
        out = cli("partner-a", "create-order", "--request-id", "cli-ticket-1", "--customer", "C900",
                  "--region", REGION, "--lat", str(HOME[0]), "--lng", str(HOME[1]),
                  "--category", "FRIDGE", "--brand", "ACME", "--serial", "SN-CLI-1",
                  "--description", "door seal is loose", "--contact-name", "Li Si",
                  "--phone", "13900001111", "--address", "Shanghai, Nanjing Road 1").stdout
        created = fields(out)
        self.assertEqual(created["created"], "true", out)
        order_id = created["order"]
        pending = feed.next()
        self.assertEqual(pending.offer.order_id, order_id)

        # Resume from the cursor before that offer: it is printed, accepted,
        # and the acceptance comes back; the cursor file keeps the last one.
        cursor_file = os.path.join(self.root, "pa.cursor")
        with open(cursor_file, "w") as f:
            f.write(f"{pending.cursor - 1}\n")
        out = cli("partner-a", "watch-offers", "--partner", "PA", "--cursor-file", cursor_file,
                  "--accept", "--max-items", "2").stdout
        lines = [fields(l) for l in out.splitlines() if l.startswith("cursor=")]
        self.assertEqual([(l["cursor"], l["state"]) for l in lines],
                         [(str(pending.cursor), "PENDING"), (str(pending.cursor + 1), "ACCEPTED")], out)
        with open(cursor_file) as f:
            self.assertEqual(f.read().strip(), str(pending.cursor + 1))
        # Nothing new since: a resumed watch prints nothing and stops when idle.
        r = cli("partner-a", "watch-offers", "--partner", "PA", "--cursor-file", cursor_file,
                "--idle-exit", "1")
        self.assertNotIn("cursor=", r.stdout)

        eng = pending.offer.engineer_id
        self.wait_assigned(order_id, eng)
        out = cli("partner-a", "progress", "--order", order_id, "--milestone", "contacted",
                  "--event-id", "cli-ticket-1/contacted", "--engineer", eng).stdout
        self.assertEqual((fields(out)["result"], fields(out)["state"]),
                         ("PROGRESS_RESULT_CODE_APPLIED", "ORDER_STATE_ASSIGNED"), out)
        out = cli("partner-a", "progress", "--order", order_id, "--milestone", "departed",
                  "--event-id", "cli-ticket-1/departed", "--engineer", eng).stdout
        self.assertEqual(fields(out)["state"], "ORDER_STATE_EN_ROUTE", out)
        batch_file = os.path.join(self.root, "batch.json")
        with open(batch_file, "w") as f:
            json.dump([{"clientEventId": "cli-ticket-1/arrived", "orderId": order_id,
                        "engineerId": eng, "deviceTime": "2026-11-23T02:30:00Z", "arrived": {}}], f)
        out = cli("partner-a", "sync-offline", "--device", "dev-cli", "--file", batch_file).stdout
        self.assertEqual(fields(out)["result"], "PROGRESS_RESULT_CODE_APPLIED", out)
        out = cli("partner-a", "get-order", "--order", order_id).stdout
        self.assertEqual((fields(out)["state"], fields(out)["engineer"]), ("ORDER_STATE_ON_SITE", eng), out)
        out = cli("partner-a", "list-offers", "--order", order_id).stdout
        self.assertIn("state=ACCEPTED", out)

        # Errors: the gRPC code on stderr, exit 1; a bad token name, exit 2.
        r = cli("partner-b", "get-order", "--order", order_id, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: NOT_FOUND", r.stderr)
        self.assertEqual(cli("nobody", "get-order", "--order", order_id, ok=False).returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
