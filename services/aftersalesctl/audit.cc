// audit verify|head <service>: a service's hash-chained audit log
// (AuditLog.VerifyAuditChain / GetAuditHead, auditor or admin; docs/audit.md).
#include <iostream>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersalesctl/cli.h"

namespace aftersales::ctl {
namespace {

std::string ServiceArg(const Options& o) {
  o.ExpectPositional({"service"});
  const std::string& s = o.positional()[0];
  for (const char* known : {"intake", "dispatch", "parts", "complaint", "satisfaction"}) {
    if (s == known) return s;
  }
  throw UsageError("unknown service \"" + s + "\"");
}

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

int Verify(Connection& c, const Options& o) {
  const std::string service = ServiceArg(o);
  v1::VerifyAuditChainRequest req;
  req.set_from_seq(o.Int("from", 0, 0, 2147483647));
  if (o.Has("anchor_seq") || o.Has("anchor_hash")) {
    req.set_anchor_seq(o.Int("anchor_seq", 0, 1, 2147483647));
    const std::string hex = o.Get("anchor_hash");
    if (hex.size() != 64 || !absl::c_all_of(hex, absl::ascii_isxdigit)) {
      throw UsageError("--anchor_hash: 64 hex digits (from audit head)");
    }
    req.set_anchor_hash(absl::HexStringToBytes(hex));
  }
  v1::VerifyAuditChainResponse r;
  grpc::Status s =
      v1::AuditLog::NewStub(c.Channel(service))->VerifyAuditChain(c.NewContext().get(), req, &r);
  if (!s.ok()) return CallFailed(c, service, s);
  if (c.json) {
    PrintJson(r, std::cout);
  } else {
    KeyValues kv;
    kv.Add("service", service);
    kv.Add("chain", r.ok() ? "intact" : "BROKEN");
    kv.Add("records checked", absl::StrCat(r.records_checked()));
    kv.Add("verified through", absl::StrCat(r.verified_through_seq()));
    kv.Add("hash there", Hex(r.head_hash()));
    if (!r.ok()) {
      kv.Add("first bad seq", absl::StrCat(r.first_bad_seq()));
      kv.Add("failure", v1::AuditFailure_Name(r.failure()));
      kv.Add("detail", r.detail());
    }
    kv.Print(std::cout);
  }
  return r.ok() ? 0 : 1;
}

int Head(Connection& c, const Options& o) {
  const std::string service = ServiceArg(o);
  v1::AuditHead head;
  grpc::Status s =
      v1::AuditLog::NewStub(c.Channel(service))->GetAuditHead(c.NewContext().get(), {}, &head);
  if (!s.ok()) return CallFailed(c, service, s);
  if (c.json) {
    PrintJson(head, std::cout);
    return 0;
  }
  KeyValues kv;
  kv.Add("service", head.service());
  kv.Add("seq", absl::StrCat(head.seq()));
  kv.Add("sha256", Hex(head.hash()));
  kv.Add("recorded", Time(head.recorded_at(), c.zone));
  kv.Print(std::cout);
  return 0;
}

}  // namespace

void AddAuditCommands(std::vector<Command>& out) {
  out.push_back({"audit", "verify", "SERVICE [--from=SEQ] [--anchor_seq=SEQ --anchor_hash=HEX]",
                 "recompute SERVICE's audit hash chain; exit 1 and the first bad record if "
                 "broken (auditor/admin)",
                 {{"from", true}, {"anchor_seq", true}, {"anchor_hash", true}},
                 Verify});
  out.push_back({"audit", "head", "SERVICE",
                 "the newest audit record's seq and hash, to keep as an anchor (auditor/admin)",
                 {},
                 Head});
}

}  // namespace aftersales::ctl
