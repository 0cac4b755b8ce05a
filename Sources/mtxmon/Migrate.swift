import ArgumentParser
import HistoryStore
import MTXMonApp

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the SQLite history file to this version's schema, then exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let settings = try options.settings()
        let store = try App.openStore(settings)
        let version = try store.schemaVersion()
        print("\(settings.database): schema version \(version) (this mtxmon knows \(Migration.embedded.count) migration(s))")
    }
}
