#include "privacy/sealed_fields.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/storage.pb.h"
#include "privacy/aead.h"

namespace aftersales::privacy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The message holding the last segment of `path` and its field; creates the
// intermediate messages only when `create`. Null when absent or not a
// singular string.
Message* Holder(Message& root, const std::string& path, bool create,
                const FieldDescriptor** field) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  Message* m = &root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr || f->is_repeated()) return nullptr;
    const Reflection* r = m->GetReflection();
    if (i + 1 == parts.size()) {
      if (f->type() != FieldDescriptor::TYPE_STRING) return nullptr;
      *field = f;
      return m;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return nullptr;
    if (!create && !r->HasField(*m, f)) return nullptr;
    m = r->MutableMessage(m, f);
  }
  return nullptr;
}

}  // namespace

SealedFields::SealedFields(store::Store* store, absl::string_view family, std::string kind,
                           CustomerKeys* keys, std::vector<std::string> paths,
                           std::string placeholder)
    : store_(store),
      cf_(store->Family(family)),
      kind_(std::move(kind)),
      keys_(keys),
      paths_(std::move(paths)),
      placeholder_(std::move(placeholder)) {}

std::string SealedFields::Aad(const std::string& id, const std::string& customer,
                              uint32_t generation) const {
  return absl::StrCat(Row(id), "\x1f", customer, "\x1f", generation);
}

std::vector<std::string> SealedFields::Extract(Message& record, Message& projection) const {
  std::vector<std::string> present;
  for (const auto& path : paths_) {
    const FieldDescriptor* f = nullptr;
    Message* from = Holder(record, path, false, &f);
    if (from == nullptr) continue;
    const Reflection* r = from->GetReflection();
    std::string value = r->GetString(*from, f);
    if (value.empty()) continue;
    const FieldDescriptor* g = nullptr;
    Message* to = Holder(projection, path, true, &g);
    to->GetReflection()->SetString(to, g, std::move(value));
    r->ClearField(from, f);
    present.push_back(path);
  }
  return present;
}

absl::Status SealedFields::Seal(store::Batch& batch, const std::string& id,
                                const std::string& customer, Message& record,
                                const Message* before, absl::Time now) const {
  std::unique_ptr<Message> projection(record.New());
  const std::vector<std::string> present = Extract(record, *projection);
  if (present.empty()) {
    batch.Delete(cf_, Row(id));
    return absl::OkStatus();
  }
  if (before != nullptr) {
    std::unique_ptr<Message> old_copy(before->New());
    old_copy->CopyFrom(*before);
    std::unique_ptr<Message> old_projection(before->New());
    Extract(*old_copy, *old_projection);
    if (old_projection->SerializeAsString() == projection->SerializeAsString()) {
      auto has = Has(id);
      if (!has.ok()) return has.status();
      if (*has) return absl::OkStatus();  // unchanged and sealed already
    }
  }
  if (customer.empty()) return absl::InternalError("privacy: PII without a customer id");
  auto key = keys_->KeyForWrite(batch, customer, now);
  if (!key.ok()) return key.status();
  auto sealed = privacy::Seal(key->key, projection->SerializeAsString(),
                              Aad(id, customer, key->generation));
  if (!sealed.ok()) return sealed.status();
  v1::SealedFields row;
  row.set_customer_id(customer);
  row.set_generation(key->generation);
  row.set_ciphertext(*std::move(sealed));
  for (const auto& p : present) row.add_fields(p);
  batch.Put(cf_, Row(id), row.SerializeAsString());
  return absl::OkStatus();
}

absl::Status SealedFields::Open(const std::string& id, Message& record) const {
  auto raw = store_->Get(cf_, Row(id));
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return absl::OkStatus();  // held no PII (or stored before sealing)
  v1::SealedFields row;
  if (!row.ParseFromString(**raw)) return absl::DataLossError("unparseable sealed fields");
  auto key = keys_->KeyForRead(row.customer_id(), row.generation());
  if (!key.ok()) return key.status();
  if (!key->has_value()) {
    for (const auto& path : row.fields()) {
      const FieldDescriptor* f = nullptr;
      Message* m = Holder(record, path, true, &f);
      if (m != nullptr) m->GetReflection()->SetString(m, f, placeholder_);
    }
    return absl::OkStatus();
  }
  auto plain = privacy::Open(**key, row.ciphertext(), Aad(id, row.customer_id(), row.generation()));
  if (!plain.ok()) return plain.status();
  std::unique_ptr<Message> projection(record.New());
  if (!projection->ParseFromString(*plain)) {
    return absl::DataLossError("unparseable sealed projection");
  }
  record.MergeFrom(*projection);
  return absl::OkStatus();
}

absl::StatusOr<bool> SealedFields::Has(const std::string& id) const {
  auto raw = store_->Get(cf_, Row(id));
  if (!raw.ok()) return raw.status();
  return raw->has_value();
}

}  // namespace aftersales::privacy
