#include "support/grpc_probe.h"

#include <chrono>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"

namespace aftersales::testing {
namespace {

using google::protobuf::io::CodedInputStream;

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// Encodes a length-delimited field.
std::string LengthDelimited(int field, const std::string& value) {
  std::string out;
  out.push_back(static_cast<char>((field << 3) | 2));
  size_t n = value.size();
  do {
    unsigned char b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (n);
  out += value;
  return out;
}

bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got;
  bool ok = false;
  while (cq.Next(&got, &ok)) {
    if (got == tag) return ok;
  }
  return false;
}

}  // namespace

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& method, const std::string& request,
                          const std::string& token, std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  grpc::ByteBuffer req = ToBuffer(request), resp;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&ctx, method, req, &cq);
  call->StartCall();
  call->Finish(&resp, &status, reinterpret_cast<void*>(1));
  Await(cq, reinterpret_cast<void*>(1));
  cq.Shutdown();
  void* t;
  bool ok;
  while (cq.Next(&t, &ok)) {
  }
  if (response) *response = FromBuffer(resp);
  return status;
}

int HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                 const std::string& service) {
  std::string response;
  grpc::Status s = RawUnaryCall(
      channel, "/grpc.health.v1.Health/Check",
      service.empty() ? "" : LengthDelimited(1, service), "", &response);
  if (!s.ok()) return -static_cast<int>(s.error_code());
  CodedInputStream in(reinterpret_cast<const uint8_t*>(response.data()),
                      static_cast<int>(response.size()));
  int status = 0;  // proto3 default: UNKNOWN
  while (uint32_t tag = in.ReadTag()) {
    if (tag == (1 << 3)) {  // field 1, varint
      uint32_t v;
      if (!in.ReadVarint32(&v)) return -1;
      status = static_cast<int>(v);
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return -1;
    }
  }
  return status;
}

std::vector<std::string> ReflectionServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::string> names;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = reinterpret_cast<void*>(1);
  call->StartCall(tag);
  bool ok = Await(cq, tag);
  // ServerReflectionRequest{list_services (field 7) = "*"}
  grpc::ByteBuffer req = ToBuffer(LengthDelimited(7, "*")), resp;
  if (ok) {
    call->Write(req, tag);
    ok = Await(cq, tag);
  }
  if (ok) {
    call->WritesDone(tag);
    ok = Await(cq, tag);
  }
  if (ok) {
    call->Read(&resp, tag);
    ok = Await(cq, tag);
  }
  grpc::Status status;
  call->Finish(&status, tag);
  Await(cq, tag);
  cq.Shutdown();
  void* t;
  bool o;
  while (cq.Next(&t, &o)) {
  }
  if (!ok || !status.ok()) return names;

  // ServerReflectionResponse.list_services_response (6) ->
  //   ListServiceResponse.service (1, repeated) -> ServiceResponse.name (1)
  const std::string bytes = FromBuffer(resp);
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  while (uint32_t tag6 = in.ReadTag()) {
    if (tag6 != ((6 << 3) | 2)) {
      if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag6)) break;
      continue;
    }
    std::string list;
    uint32_t len;
    if (!in.ReadVarint32(&len) || !in.ReadString(&list, len)) break;
    CodedInputStream lin(reinterpret_cast<const uint8_t*>(list.data()),
                         static_cast<int>(list.size()));
    while (uint32_t t1 = lin.ReadTag()) {
      std::string service;
      uint32_t slen;
      if (t1 != ((1 << 3) | 2) || !lin.ReadVarint32(&slen) ||
          !lin.ReadString(&service, slen)) {
        break;
      }
      CodedInputStream sin(reinterpret_cast<const uint8_t*>(service.data()),
                           static_cast<int>(service.size()));
      while (uint32_t t2 = sin.ReadTag()) {
        std::string name;
        uint32_t nlen;
        if (t2 != ((1 << 3) | 2) || !sin.ReadVarint32(&nlen) ||
            !sin.ReadString(&name, nlen)) {
          break;
        }
        names.push_back(name);
      }
    }
  }
  return names;
}

}  // namespace aftersales::testing
