#if canImport(Glibc)
import Glibc
#endif

/// glibc gives every thread that allocates under contention an arena of its own, and keeps its
/// pages: a fleet's polls run on several threads at once, which cost about 18 MB of resident
/// memory for 1,000 paths in arenas holding nothing (measured: 40 MB anonymous memory with the
/// default, 23 MB with one arena, as before fleets). Two arenas keep the pool's threads from
/// queueing on one lock while holding the memory to what the data needs.
public enum MemoryArenas {
    /// Caps the arenas at two unless `MALLOC_ARENA_MAX` says otherwise; call before the work starts.
    public static func limit(environment: [String: String]) {
        #if canImport(Glibc)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = glibcMallopt(-8 /* M_ARENA_MAX, <malloc.h> */, 2)
        #endif
    }
}

#if canImport(Glibc)
/// glibc's `mallopt`, which the Glibc module does not export (it is declared in `<malloc.h>`).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
