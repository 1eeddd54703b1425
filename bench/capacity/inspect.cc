// Per-column-family key counts and bytes of a service's data dir (read-only),
// for the capacity benchmark's faithfulness check (docs/capacity.md): the
// same records written by the real service over gRPC and by capacity_loader
// must give the same tables, rows per record and about the same bytes.
// Usage: capacity_inspect DATA_DIR RECORDS [OTHER_DATA_DIR OTHER_RECORDS]
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rocksdb/db.h"

namespace {

struct Family {
  int64_t keys = 0, bytes = 0;  // key + value bytes (uncompressed)
};

bool Inspect(const std::string& path, std::map<std::string, Family>* out) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.ToString().c_str());
    return false;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.ToString().c_str());
    return false;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    Family& f = (*out)[names[i]];
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++f.keys;
      f.bytes += static_cast<int64_t>(it->key().size() + it->value().size());
    }
    db->DestroyColumnFamilyHandle(handles[i]);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: %s DATA_DIR RECORDS [OTHER_DATA_DIR OTHER_RECORDS]\n", argv[0]);
    return 2;
  }
  const int sets = (argc - 1) / 2;
  std::map<std::string, Family> fams[2];
  double records[2];
  for (int k = 0; k < sets; ++k) {
    if (!Inspect(argv[1 + 2 * k], &fams[k])) return 1;
    records[k] = std::stod(argv[2 + 2 * k]);
  }
  std::map<std::string, int> all;
  for (int k = 0; k < sets; ++k) {
    for (const auto& [n, f] : fams[k]) all[n] = 1;
  }
  std::printf("%-26s", "column family");
  for (int k = 0; k < sets; ++k) std::printf(" | %10s %9s %9s", "keys", "keys/rec", "B/rec");
  std::printf("\n");
  Family total[2];
  for (const auto& [name, unused] : all) {
    std::printf("%-26s", name.c_str());
    for (int k = 0; k < sets; ++k) {
      const Family f = fams[k].count(name) ? fams[k].at(name) : Family{};
      total[k].keys += f.keys;
      total[k].bytes += f.bytes;
      std::printf(" | %10lld %9.2f %9.0f", static_cast<long long>(f.keys), f.keys / records[k],
                  f.bytes / records[k]);
    }
    std::printf("\n");
  }
  std::printf("%-26s", "total");
  for (int k = 0; k < sets; ++k) {
    std::printf(" | %10lld %9.2f %9.0f", static_cast<long long>(total[k].keys),
                total[k].keys / records[k], total[k].bytes / records[k]);
  }
  std::printf("\n");
  return 0;
}
