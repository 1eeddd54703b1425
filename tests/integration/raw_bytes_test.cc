// Bad bytes at every port (SPEC §8: bad input never crashes a service and
// never partially applies; issue 11): for each of the five services,
//  - every RPC (enumerated through reflection and the proto descriptors)
//    gets request bytes that are no protobuf at all — a tag 0, a truncated
//    varint, a truncated length-delimited field, a stray end-group — inside
//    valid gRPC framing, with an admin token: INTERNAL or INVALID_ARGUMENT
//    (gRPC's C++ server answers INTERNAL for a request it cannot decode);
//  - every RPC gets a 2 MiB message: RESOURCE_EXHAUSTED;
//  - the gRPC port gets plain garbage, an HTTP/1.1 request, an HTTP/2
//    preface with a truncated frame, an oversized frame, and a well-formed
//    HTTP/2 stream whose gRPC length prefix claims 4 GiB: the server answers
//    or closes the connection;
//  - the metrics port gets garbage, a malformed HTTP request and an HTTP/2
//    preface;
// and afterwards every service is still SERVING, answers a normal call,
// serves /metrics, and its event log head has not moved.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catch2/catch.hpp"
#include "integration/security_support.h"
#include "support/grpc_probe.h"

namespace aftersales {
namespace {

using testing::Probe;
using testing::ProbeResult;

// What a raw TCP exchange saw.
struct Exchange {
  bool connected = false;
  std::string received;
  bool closed_by_server = false;  // EOF or reset before the timeout
};

// Connects to 127.0.0.1:port, sends `bytes` (then half-closes if asked) and
// reads until the server closes or `timeout` passes.
Exchange RawTcp(int port, const std::string& bytes, bool half_close,
                absl::Duration timeout = absl::Seconds(5)) {
  Exchange ex;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return ex;
  }
  ex.connected = true;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close mid-way: fine
    sent += static_cast<size_t>(n);
  }
  if (half_close) shutdown(fd, SHUT_WR);
  const absl::Time until = absl::Now() + timeout;
  char buf[4096];
  while (absl::Now() < until) {
    pollfd p{fd, POLLIN, 0};
    const int ready =
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(until - absl::Now())) + 1);
    if (ready <= 0) break;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ex.closed_by_server = true;
      break;
    }
    ex.received.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return ex;
}

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload,
                  uint32_t claimed_length = 0xffffffff) {
  const uint32_t len = claimed_length == 0xffffffff ? payload.size() : claimed_length;
  std::string f;
  f.push_back(static_cast<char>((len >> 16) & 0xff));
  f.push_back(static_cast<char>((len >> 8) & 0xff));
  f.push_back(static_cast<char>(len & 0xff));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  f.push_back(static_cast<char>((stream >> 24) & 0x7f));
  f.push_back(static_cast<char>((stream >> 16) & 0xff));
  f.push_back(static_cast<char>((stream >> 8) & 0xff));
  f.push_back(static_cast<char>(stream & 0xff));
  return f + payload;
}

// HPACK "literal header field without indexing, new name", no Huffman.
std::string Literal(const std::string& name, const std::string& value) {
  REQUIRE(name.size() < 127);
  REQUIRE(value.size() < 127);
  std::string out(1, '\0');
  out.push_back(static_cast<char>(name.size()));
  out += name;
  out.push_back(static_cast<char>(value.size()));
  out += value;
  return out;
}

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Bytes that decode as no protobuf message at all.
const std::vector<std::pair<std::string, std::string>>& Undecodable() {
  static const std::vector<std::pair<std::string, std::string>> payloads = {
      {"tag 0", std::string("\x00\x01", 2)},
      {"truncated varint", "\x08\x80"},
      {"truncated length-delimited field", "\x0a\x05" "ab"},
      {"end-group without start", "\x0c"},
      {"11-byte varint tag", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
  };
  return payloads;
}

TEST_CASE("malformed protobuf, oversized messages and HTTP/2 garbage never crash a service or change its state") {
  testing::Suite suite;
  const std::string admin = suite.token("admin");
  const std::string service_token = suite.token("service");

  std::map<std::string, size_t> events_before;
  for (const std::string& name : testing::ServiceNames()) {
    events_before[name] = testing::AllEvents(suite[name].channel(), service_token).size();
  }

  std::vector<std::string> problems;
  int rpcs = 0;
  const std::string oversized = "\x0a" + std::string("\x80\x80\x80\x01", 4) +
                                std::string(2 << 20, 'x');  // field 1, 2 MiB
  for (const std::string& name : testing::ServiceNames()) {
    testing::ServiceProcess& process = suite[name];
    for (const std::string& full : testing::ReflectionServices(process.channel())) {
      const auto* service = testing::FindService(full);
      if (service == nullptr) continue;  // health, reflection (and unknown: see the matrix test)
      for (int m = 0; m < service->method_count(); ++m) {
        const std::string path = absl::StrCat("/", full, "/", service->method(m)->name());
        ++rpcs;
        for (const auto& [what, bytes] : Undecodable()) {
          const ProbeResult r = Probe(process.channel(), path, bytes, admin);
          if (r.got_response || (r.code != grpc::StatusCode::INTERNAL &&
                                 r.code != grpc::StatusCode::INVALID_ARGUMENT)) {
            problems.push_back(absl::StrCat(name, " ", path, " with ", what, ": got ", r.code,
                                            " ", r.message));
          }
        }
        const ProbeResult big = Probe(process.channel(), path, oversized, admin);
        if (big.got_response || big.code != grpc::StatusCode::RESOURCE_EXHAUSTED) {
          problems.push_back(absl::StrCat(name, " ", path, " with 2 MiB: got ", big.code, " ",
                                          big.message));
        }
      }
    }

    // Raw bytes at the gRPC port: the server closes (or answers and closes).
    const int port = process.grpc_port();
    {
      INFO(name << ": plain garbage");
      Exchange ex = RawTcp(port, std::string("\x16\x03\x01\x02\x00garbage\xff\xfe\x00", 17), true);
      CHECK(ex.connected);
      CHECK(ex.closed_by_server);
    }
    {
      INFO(name << ": HTTP/1.1 request");
      Exchange ex = RawTcp(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true);
      CHECK(ex.connected);
      CHECK(ex.closed_by_server);
    }
    {
      INFO(name << ": HTTP/2 preface + truncated SETTINGS frame");
      Exchange ex = RawTcp(port, kPreface + Frame(4, 0, 0, "\x00\x03", 100).substr(0, 12), true);
      CHECK(ex.connected);
      CHECK(ex.closed_by_server);
    }
    {
      INFO(name << ": HTTP/2 frame over the maximum frame size");
      Exchange ex = RawTcp(port, kPreface + Frame(4, 0, 0, "") +
                                     Frame(0, 0, 1, std::string(64, 'z'), 0xffffff),
                           false);
      CHECK(ex.connected);
      CHECK(ex.closed_by_server);
    }
    {
      INFO(name << ": a gRPC length prefix of 4 GiB");
      std::string headers = Literal(":method", "POST") + Literal(":scheme", "http") +
                            Literal(":path", "/aftersales.v1.ClockAdmin/GetTime") +
                            Literal(":authority", "localhost") +
                            Literal("content-type", "application/grpc") +
                            Literal("te", "trailers") +
                            Literal("authorization", "Bearer " + admin);
      std::string data = std::string("\x00\xff\xff\xff\xff", 5) + "0123456789";
      Exchange ex = RawTcp(port, kPreface + Frame(4, 0, 0, "") + Frame(1, 0x4, 1, headers) +
                                     Frame(0, 0x1, 1, data),
                           false, absl::Seconds(3));
      CHECK(ex.connected);
      // The answer is RESOURCE_EXHAUSTED in the trailers or a reset; either
      // way the service must live on (checked below).
    }

    // The metrics port (HTTP/1.1, prometheus-cpp's civetweb).
    const int metrics = process.metrics_port();
    for (const std::string& junk :
         {std::string("\x00\xff\x13garbage\r\n\r\n", 14), kPreface + Frame(4, 0, 0, ""),
          std::string("GET /") + std::string(70000, 'a') + " HTTP/1.1\r\n\r\n",
          std::string("POST /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nxx")}) {
      Exchange ex = RawTcp(metrics, junk, true, absl::Seconds(5));
      CHECK(ex.connected);
      CHECK(!absl::StrContains(ex.received, "aftersales_"));  // never the metrics page
    }
  }
  CHECK(rpcs >= 80);
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems.empty());

  // Everyone survived, serves, and nothing was applied.
  for (const std::string& name : testing::ServiceNames()) {
    INFO(name);
    testing::ServiceProcess& process = suite[name];
    CHECK(testing::HealthStatus(process.channel(), "") == 1);
    CHECK(testing::AllEvents(process.channel(), service_token).size() == events_before[name]);
    CHECK(absl::StrContains(testing::HttpGet(process.metrics_port(), "/metrics"),
                            "grpc_server_handled_total"));
    const ProbeResult time = Probe(process.channel(), "/aftersales.v1.ClockAdmin/GetTime", "", admin);
    CHECK(time.code == grpc::StatusCode::OK);
    CHECK(time.got_response);
  }
}

}  // namespace
}  // namespace aftersales
