// The faithfulness check of the capacity benchmark (docs/capacity.md): sends
// the calls capacity_loader recorded (--record_ops) through a REAL service
// process — gRPC calls with the bench tokens, intake's events through a real
// event stream (tests/support/event_producer) that the service consumes —
// moving the service's manual clock (ClockAdmin.SetTime) to each call's time
// first, so dates match too. compare.sh then inspects both data dirs.
// Usage: capacity_replay --service=S --ops=FILE --port_file=F --token_dir=D
//          [--intake_port=P --producer_dir=DIR]
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "auth/auth.h"
#include "capacity/ops.h"
#include "grpcpp/grpcpp.h"
#include "rpc/rpc.h"
#include "support/event_producer.h"

ABSL_FLAG(std::string, service, "", "dispatch, parts, complaint or satisfaction");
ABSL_FLAG(std::string, ops, "", "ops file written by capacity_loader --record_ops");
ABSL_FLAG(std::string, port_file, "", "the service's --port_file (waited for)");
ABSL_FLAG(std::string, token_dir, "", "tokens.txt and {admin,agent,service}.token");
ABSL_FLAG(int, intake_port, 0, "serve intake's event stream on this port (events ops)");
ABSL_FLAG(std::string, producer_dir, "", "the event stream's store");

namespace aftersales::capacity {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class Replayer {
 public:
  Replayer(const std::string& service, std::shared_ptr<grpc::Channel> channel,
           const std::string& token_dir)
      : service_(service),
        admin_(Token(token_dir, "admin")), agent_(Token(token_dir, "agent")),
        svc_(Token(token_dir, "service")),
        clock_(v1::ClockAdmin::NewStub(channel)),
        complaint_(v1::ComplaintService::NewStub(channel)),
        parts_(v1::PartsService::NewStub(channel)),
        satisfaction_(v1::SatisfactionService::NewStub(channel)),
        dispatch_(v1::DispatchService::NewStub(channel)) {}

  grpc::Status SetTime(absl::Time t) {
    v1::SetTimeRequest req;
    *req.mutable_now() = rpc::ToProto(t);
    v1::ClockTime out;
    return clock_->SetTime(Ctx(admin_).get(), req, &out);
  }

  grpc::Status Call(const Op& op) {
    switch (op.kind) {
      case OpKind::kFileComplaint: {
        v1::FileComplaintRequest req;
        req.ParseFromString(op.request);
        v1::FileComplaintResponse out;
        return complaint_->FileComplaint(Ctx(agent_).get(), req, &out);
      }
      case OpKind::kUpsertPart: {
        v1::UpsertPartRequest req;
        req.mutable_part()->ParseFromString(op.request);
        v1::Part out;
        return parts_->UpsertPart(Ctx(admin_).get(), req, &out);
      }
      case OpKind::kUpsertLocation: {
        v1::UpsertLocationRequest req;
        req.mutable_location()->ParseFromString(op.request);
        v1::StockLocation out;
        return parts_->UpsertLocation(Ctx(admin_).get(), req, &out);
      }
      case OpKind::kReceive: {
        v1::ReceiveRequest req;
        req.ParseFromString(op.request);
        v1::ReceiveResponse out;
        return parts_->Receive(Ctx(admin_).get(), req, &out);
      }
      case OpKind::kReserve: {
        v1::ReserveRequest req;
        req.ParseFromString(op.request);
        v1::ReserveResponse out;
        return parts_->Reserve(Ctx(svc_).get(), req, &out);
      }
      case OpKind::kUpsertPartner: {
        v1::UpsertPartnerRequest req;
        req.mutable_partner()->ParseFromString(op.request);
        v1::Partner out;
        return dispatch_->UpsertPartner(Ctx(admin_).get(), req, &out);
      }
      case OpKind::kRegisterEngineer: {
        v1::RegisterEngineerRequest req;
        req.mutable_engineer()->ParseFromString(op.request);
        v1::Engineer out;
        return dispatch_->RegisterEngineer(Ctx(admin_).get(), req, &out);
      }
      case OpKind::kReportLocation: {
        v1::ReportLocationRequest req;
        req.ParseFromString(op.request);
        v1::ReportLocationResponse out;
        return dispatch_->ReportLocation(Ctx(svc_).get(), req, &out);
      }
      case OpKind::kIntakeEvent:
        break;
    }
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a call");
  }

  // Reads the record an event created (the consumer applies it asynchronously).
  grpc::Status Read(const std::string& id) {
    if (service_ == "satisfaction") {
      v1::GetSurveyRequest req;
      req.set_survey_id(id);
      v1::Survey out;
      return satisfaction_->GetSurvey(Ctx(admin_).get(), req, &out);
    }
    v1::GetDispatchOrderRequest req;
    req.set_order_id(id);
    v1::DispatchOrder out;
    return dispatch_->GetDispatchOrder(Ctx(admin_).get(), req, &out);
  }

 private:
  static std::string Token(const std::string& dir, const std::string& name) {
    return std::string(absl::StripAsciiWhitespace(ReadFile(dir + "/" + name + ".token")));
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    rpc::SetBearerToken(*ctx, token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::string service_, admin_, agent_, svc_;
  std::unique_ptr<v1::ClockAdmin::Stub> clock_;
  std::unique_ptr<v1::ComplaintService::Stub> complaint_;
  std::unique_ptr<v1::PartsService::Stub> parts_;
  std::unique_ptr<v1::SatisfactionService::Stub> satisfaction_;
  std::unique_ptr<v1::DispatchService::Stub> dispatch_;
};

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string token_dir = absl::GetFlag(FLAGS_token_dir);
  auto tokens = auth::TokenRegistry::LoadFile(token_dir + "/tokens.txt");
  if (!tokens.ok()) {
    std::cerr << "tokens: " << tokens.status() << std::endl;
    return 1;
  }
  std::unique_ptr<testing::EventProducer> producer;
  if (absl::GetFlag(FLAGS_intake_port) > 0) {
    producer = std::make_unique<testing::EventProducer>(absl::GetFlag(FLAGS_producer_dir),
                                                        &*tokens);
    producer->Up(absl::GetFlag(FLAGS_intake_port));
  }
  // The service is started after the producer listens; wait for its port.
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  std::string port;
  for (int i = 0; i < 600 && port.empty(); ++i) {
    std::ifstream in(port_file);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("grpc_port=", 0) == 0) port = line.substr(10);
    }
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (port.empty()) {
    std::cerr << "no port in " << port_file << std::endl;
    return 1;
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials());
  Replayer replayer(absl::GetFlag(FLAGS_service), channel, token_dir);
  OpReader ops(absl::GetFlag(FLAGS_ops));
  if (!ops.ok()) {
    std::cerr << "cannot read --ops" << std::endl;
    return 1;
  }
  absl::Time clock = absl::InfinitePast();
  int n = 0, failed = 0;
  while (auto op = ops.Next()) {
    ++n;
    if (op->at > clock) {
      grpc::Status s = replayer.SetTime(op->at);
      for (int i = 0; i < 100 && s.error_code() == grpc::StatusCode::UNAVAILABLE; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        s = replayer.SetTime(op->at);
      }
      if (!s.ok()) {
        std::cerr << "SetTime: " << s.error_message() << std::endl;
        return 1;
      }
      clock = op->at;
    }
    grpc::Status s;
    if (op->kind == OpKind::kIntakeEvent) {
      v1::Event e;
      e.ParseFromString(op->request);
      e.set_producer("intake");
      *e.mutable_occurred_at() = rpc::ToProto(op->at);
      producer->Emit(e);
      for (int i = 0; i < 500; ++i) {
        s = replayer.Read(op->await_id);
        if (s.ok()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    } else {
      s = replayer.Call(*op);
    }
    if (!s.ok() && ++failed <= 10) {
      std::cerr << "op " << n << " (kind " << static_cast<int>(op->kind)
                << "): " << s.error_code() << " " << s.error_message() << std::endl;
    }
  }
  std::cout << "capacity_replay: " << n << " ops, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace aftersales::capacity

int main(int argc, char** argv) { return aftersales::capacity::Main(argc, argv); }
