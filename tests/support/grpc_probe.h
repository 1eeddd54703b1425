#ifndef AFTERSALES_TESTS_SUPPORT_GRPC_PROBE_H_
#define AFTERSALES_TESTS_SUPPORT_GRPC_PROBE_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

// Clients of the standard gRPC health and reflection services, spoken with
// hand-encoded messages: Debian ships no generated code for them, and a copy
// of their .proto would clash with the one libgrpc++_reflection registers.
namespace aftersales::testing {

// grpc.health.v1.Health/Check: 1 SERVING, 2 NOT_SERVING, 0 UNKNOWN; if the
// call fails, minus its status code (-5 = NOT_FOUND, the protocol's answer
// for a service name the server does not know; -14 = UNAVAILABLE).
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                 const std::string& service);

// grpc.reflection.v1alpha list_services: the full names of every service the
// server exposes; empty if the call failed.
std::vector<std::string> ReflectionServices(
    const std::shared_ptr<grpc::Channel>& channel);

// Sends raw bytes as the request of `method` (e.g. a malformed protobuf).
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& method, const std::string& request,
                          const std::string& token, std::string* response);

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_SUPPORT_GRPC_PROBE_H_
