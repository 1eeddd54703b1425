// Optional TLS on a service's port, and mutual TLS between services, with a
// certificate the test makes with openssl.
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "support/fixtures.h"
#include "support/grpc_probe.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::ServiceProcess;

// A self-signed certificate for 127.0.0.1, acting as its own CA.
void MakeCertificate(const std::string& dir) {
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes",
      " -keyout ", dir, "/key.pem -out ", dir, "/cert.pem -days 1",
      " -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost",
      " >", dir, "/openssl.log 2>&1");
  REQUIRE(std::system(cmd.c_str()) == 0);
}

TEST_CASE("TLS on the gRPC port, and mutual TLS from dispatch to intake") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  MakeCertificate(dir.path());
  const std::string cert = dir.Sub("cert.pem"), key = dir.Sub("key.pem");

  ServiceProcess::Options intake_options;
  intake_options.name = "intake";
  intake_options.data_dir = dir.Sub("intake");
  intake_options.tokens = &tokens;
  intake_options.extra_flags = {"--tls_cert=" + cert, "--tls_key=" + key,
                                "--tls_client_ca=" + cert};
  intake_options.client_tls_ca = cert;
  intake_options.client_tls_cert = cert;  // the test client is trusted too
  intake_options.client_tls_key = key;
  ServiceProcess intake(intake_options);

  // Plaintext, or TLS without a client certificate, does not get through.
  auto plain = grpc::CreateChannel(intake.address(), grpc::InsecureChannelCredentials());
  CHECK(testing::HealthStatus(plain, "") == -grpc::StatusCode::UNAVAILABLE);
  grpc::SslCredentialsOptions no_client_cert;
  no_client_cert.pem_root_certs = testing::ReadFileOrEmpty(cert);
  auto anonymous =
      grpc::CreateChannel(intake.address(), grpc::SslCredentials(no_client_cert));
  CHECK(testing::HealthStatus(anonymous, "") == -grpc::StatusCode::UNAVAILABLE);

  auto stub = v1::IntakeService::NewStub(intake.channel());
  v1::CreateOrderResponse created;
  REQUIRE(stub->CreateOrder(Context(tokens.token["partner-a"]).get(),
                            testing::SampleOrderRequest("tls-1"), &created)
              .ok());

  ServiceProcess::Options dispatch_options;
  dispatch_options.name = "dispatch";
  dispatch_options.data_dir = dir.Sub("dispatch");
  dispatch_options.tokens = &tokens;
  dispatch_options.peers["intake"] = intake.address();
  dispatch_options.extra_flags = {"--tls_cert=" + cert, "--tls_key=" + key,
                                  "--peer_tls_ca=" + cert};
  dispatch_options.client_tls_ca = cert;
  ServiceProcess dispatch(dispatch_options);

  auto dstub = v1::DispatchService::NewStub(dispatch.channel());
  v1::GetDispatchOrderRequest get;
  get.set_order_id(created.order().order_id());
  REQUIRE(testing::Eventually([&] {
    v1::DispatchOrder d;
    return dstub->GetDispatchOrder(Context(tokens.token["agent"]).get(), get, &d).ok();
  }));
}

// Runs openssl s_client against 127.0.0.1:port with `protocol` ("-tls1_2" or
// "-tls1_3") and the client certificate; returns its exit code and output.
std::pair<int, std::string> SClient(const testing::TempDir& dir, int port,
                                    const std::string& protocol) {
  const std::string out = dir.Sub("s_client" + protocol + ".log");
  const std::string cmd = absl::StrCat(
      "openssl s_client -connect 127.0.0.1:", port, " ", protocol,
      " -alpn h2 -CAfile ", dir.Sub("cert.pem"), " -cert ", dir.Sub("cert.pem"),
      " -key ", dir.Sub("key.pem"), " -verify_return_error </dev/null >", out, " 2>&1");
  const int rc = std::system(cmd.c_str());
  return {rc, testing::ReadFileOrEmpty(out)};
}

TEST_CASE("TLS ports refuse TLS 1.2 and accept TLS 1.3") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  MakeCertificate(dir.path());
  const std::string cert = dir.Sub("cert.pem"), key = dir.Sub("key.pem");

  for (const bool mutual : {false, true}) {
    ServiceProcess::Options options;
    options.name = "intake";
    options.data_dir = dir.Sub(mutual ? "intake-mtls" : "intake-tls");
    options.tokens = &tokens;
    options.extra_flags = {"--tls_cert=" + cert, "--tls_key=" + key};
    if (mutual) options.extra_flags.push_back("--tls_client_ca=" + cert);
    options.client_tls_ca = cert;
    options.client_tls_cert = cert;
    options.client_tls_key = key;
    ServiceProcess intake(options);
    INFO((mutual ? "mutual TLS" : "server TLS"));

    // A client that speaks at most TLS 1.2 gets no session.
    auto [rc12, out12] = SClient(dir, intake.grpc_port(), "-tls1_2");
    INFO(out12);
    CHECK(rc12 != 0);
    CHECK(out12.find("Cipher is (NONE)") != std::string::npos);
    CHECK(out12.find("New, TLSv1.2") == std::string::npos);

    // TLS 1.3 gets through, with HTTP/2 negotiated for gRPC.
    auto [rc13, out13] = SClient(dir, intake.grpc_port(), "-tls1_3");
    INFO(out13);
    CHECK(rc13 == 0);
    CHECK(out13.find("New, TLSv1.3") != std::string::npos);
    CHECK(out13.find("ALPN protocol: h2") != std::string::npos);

    // And gRPC clients (TLS 1.3 by default) are served as before.
    auto stub = v1::IntakeService::NewStub(intake.channel());
    v1::CreateOrderResponse created;
    CHECK(stub->CreateOrder(Context(tokens.token["partner-a"]).get(),
                            testing::SampleOrderRequest(mutual ? "tls13-m" : "tls13-s"),
                            &created)
              .ok());
  }
}

}  // namespace
}  // namespace aftersales
