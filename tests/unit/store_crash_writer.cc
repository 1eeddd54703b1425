// Child of store_test's crash test: writes orders with their events from 8
// threads until killed, appending each key to an ack file only after Commit
// returned (i.e. after the client would have seen success).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "aftersales/v1/events.pb.h"
#include "store/store.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  if (argc != 3) return 2;
  store::Store::Options options;
  options.path = argv[1];
  options.column_families = {"orders", "by_region"};
  auto store = store::Store::Open(options);
  if (!store.ok()) return 3;
  int ack = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (ack < 0) return 4;
  store::Table<v1::WorkOrder> orders(store->get(), "orders");
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        v1::WorkOrder o;
        o.set_order_id("K" + std::to_string(t) + "-" + std::to_string(i));
        store::Batch b;
        orders.Put(b, o.order_id(), o);
        v1::Event e;
        e.set_subject_id(o.order_id());
        *e.mutable_order_created()->mutable_order() = o;
        b.AppendEvent(e);
        if (!(*store)->Commit(b).ok()) _exit(5);
        const std::string line = o.order_id() + "\n";  // one write: no interleaving
        if (write(ack, line.data(), line.size()) < 0) _exit(6);
      }
    });
  }
  for (auto& w : writers) w.join();
}
