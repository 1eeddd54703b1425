// jemalloc's settings for every service process, read by jemalloc at start
// (the `malloc_conf` symbol of the executable; MALLOC_CONF still overrides).
// Why jemalloc and these values: docs/benchmarks.md §1 — glibc malloc spent
// ~20% of CreateOrder's CPU (malloc_consolidate on RocksDB iterator arenas),
// jemalloc cut CPU per call by ~17% for ~8 MB more RSS with:
//   narenas:4           — 2 cores; fewer arenas, less memory held per arena
//   background_thread   — purging off the request threads
//   dirty_decay_ms:1000, muzzy_decay_ms:0 — give freed pages back within ~1 s
//   tcache_max:4096     — small per-thread caches (the sync server runs ~60 threads)
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's contract.
const char* malloc_conf =
    "narenas:4,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,tcache_max:4096";
}
