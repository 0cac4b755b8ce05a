import ArgumentParser
import Foundation
import MTXMonApp

struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Ask a running mtxmon's /healthz: exit 0 on 200, 1 otherwise, printing its answer. For container "
            + "healthchecks (the runtime image has no curl).")

    @Option(help: "The address mtxmon listens on, host:port (MTXMON_LISTEN; a wildcard host is asked on loopback).")
    var listen: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 3

    func run() async throws {
        let text = listen ?? ProcessInfo.processInfo.environment["MTXMON_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "127.0.0.1:9990"
        guard let address = HostPort(text) else {
            throw ValidationError("\(listen != nil ? "--listen" : "MTXMON_LISTEN")='\(text)' is not host:port: use e.g. 127.0.0.1:9990")
        }
        let (status, body) = await Healthcheck.probe(Healthcheck.url(listen: address), timeout: .seconds(Int64(max(1, timeout))))
        print(status.map { "\($0) \(body)" } ?? body)
        if status != 200 { throw ExitCode.failure }
    }
}
