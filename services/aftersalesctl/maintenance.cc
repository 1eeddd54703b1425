// backup <service> <name>: an online checkpoint of a service's RocksDB
// (Maintenance.Checkpoint, admin only; docs/operations.md).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersalesctl/cli.h"

namespace aftersales::ctl {
namespace {

int Backup(const std::string& service, Connection& c, const Options& o) {
  o.ExpectPositional({"name"});
  v1::CheckpointRequest req;
  req.set_name(o.positional()[0]);
  v1::CheckpointReply reply;
  grpc::Status s =
      v1::Maintenance::NewStub(c.Channel(service))->Checkpoint(c.NewContext().get(), req, &reply);
  if (!s.ok()) return CallFailed(c, service, s);
  if (c.json) {
    PrintJson(reply, std::cout);
    return 0;
  }
  KeyValues kv;
  kv.Add("service", service);
  kv.Add("checkpoint", reply.path());
  kv.Add("event head", absl::StrCat(reply.head_seq()));
  kv.Add("bytes", absl::StrCat(reply.size_bytes()));
  kv.Add("created", Time(reply.created_at(), c.zone));
  kv.Print(std::cout);
  return 0;
}

}  // namespace

void AddMaintenanceCommands(std::vector<Command>& out) {
  for (const char* service : {"intake", "dispatch", "parts", "complaint", "satisfaction"}) {
    const std::string name = service;
    out.push_back({"backup", name, "NAME",
                   "online checkpoint of " + name +
                       "'s database into <its --backup_dir>/NAME (admin); restore: "
                       "docs/operations.md",
                   {},
                   [name](Connection& c, const Options& o) { return Backup(name, c, o); }});
  }
}

}  // namespace aftersales::ctl
