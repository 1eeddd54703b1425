#ifndef AFTERSALES_LIBS_PRIVACY_SEALED_FIELDS_H_
#define AFTERSALES_LIBS_PRIVACY_SEALED_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "privacy/customer_keys.h"
#include "store/store.h"

namespace aftersales::privacy {

// What an erased field reads as.
inline constexpr char kErased[] = "[erased]";

// Keeps the PII fields of one record kind out of its table: Seal moves the
// listed string fields (paths like "contact.phone") into a row of their own,
// encrypted with the customer's data key, with the row key, customer and key
// generation as associated data; Open puts them back. After the customer's
// key is erased, Open fills every field that was present with a placeholder
// instead — never garbage, never an error for the whole record.
class SealedFields {
 public:
  // `family`: where the sealed rows live; `kind` prefixes their keys
  // ("order/<id>"), so one family can hold several record kinds.
  SealedFields(store::Store* store, absl::string_view family, std::string kind,
               CustomerKeys* keys, std::vector<std::string> paths,
               std::string placeholder = kErased);

  // Strips the PII fields from `record` (the copy about to be stored) and
  // stages their sealed row. `before` is the record as last loaded (or null):
  // when its PII equals `record`'s and a sealed row exists, nothing is
  // re-written. No PII left: the sealed row is deleted.
  absl::Status Seal(store::Batch& batch, const std::string& id, const std::string& customer_id,
                    google::protobuf::Message& record, const google::protobuf::Message* before,
                    absl::Time now) const;

  // Restores the PII fields of a record loaded from its table.
  absl::Status Open(const std::string& id, google::protobuf::Message& record) const;

  // Whether a record has a sealed row (it held PII).
  absl::StatusOr<bool> Has(const std::string& id) const;

  // Moves the listed fields of `record` into `projection` (same type);
  // returns the paths that were present. Exposed for tests.
  std::vector<std::string> Extract(google::protobuf::Message& record,
                                   google::protobuf::Message& projection) const;

 private:
  std::string Row(const std::string& id) const { return kind_ + "/" + id; }
  std::string Aad(const std::string& id, const std::string& customer, uint32_t generation) const;

  store::Store* store_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string kind_;
  CustomerKeys* keys_;
  std::vector<std::string> paths_;
  std::string placeholder_;
};

}  // namespace aftersales::privacy

#endif  // AFTERSALES_LIBS_PRIVACY_SEALED_FIELDS_H_
