import ArgumentParser
import Collector
import MTXMonApp

struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll MediaMTX every interval; write history to SQLite and the latest snapshot to the cache.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let settings = try options.settings()
        let (logger, _) = bootstrap(settings, label: "mtxmon.collect")
        let store = try App.openStore(settings)
        let collector = App.makeCollector(settings, cache: App.makeCache(settings), store: store,
                                          status: CollectorStatus(), logger: logger)
        try await App.run([collector], logger: logger)
    }
}
