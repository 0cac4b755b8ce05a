import ArgumentParser
import Foundation
import Logging
import MediaMTXSimulator

extension Simulate {
    func validateReplay() throws {
        guard let replay else {
            guard speed == nil else { throw ValidationError("--speed applies to a replay: add --replay DIR") }
            return
        }
        let example = "e.g. --replay Tests/Fixtures/mediamtx-v1.20.1-outages"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: replay, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--replay '\(replay)' is not a directory: give a capture directory, \(example)")
        }
        guard FileManager.default.fileExists(atPath: replay + "/paths_list.jsonl") else {
            throw ValidationError("--replay '\(replay)' has no paths_list.jsonl: give a capture directory "
                + "holding one <list>_list.jsonl per list, \(example)")
        }
        if let speed, !(speed.isFinite && speed > 0) {
            throw ValidationError("--speed must be above 0, e.g. 10 for ten times as fast")
        }
    }

    /// Plays `replay` in real time from its first step and stays on its last until cancelled.
    static func play(_ replay: Replay, speed: Double, host: String, port: Int, logger: Logger) async throws {
        let server = ReplayServer(replay: replay, logger: logger)
        do {
            try await server.start(host: host, port: port)
            let span = Double(replay.t(at: replay.stepCount - 1) - replay.t(at: 0)) / 1_000
            let bound = await server.port
            logger.info("replaying \(replay.directory.path): \(replay.stepCount) polls over \(Int(span)) s at speed \(speed), on \(host):\(bound)")
            let clock = ContinuousClock()
            let start = clock.now
            var step = 0
            announce(replay, entering: 0...0, speed: speed, logger: logger)
            while step < replay.stepCount - 1 {
                try await clock.sleep(until: start + Replay.stepInterval * (Double(step + 1) / speed))
                let next = replay.step(after: clock.now - start, speed: speed)
                guard next > step else { continue }
                announce(replay, entering: step + 1...next, speed: speed, logger: logger)
                try await server.go(to: next)
                step = next
            }
            logger.info("at the capture's last poll (step \(step)); staying there")
            while true { try await Task.sleep(for: .seconds(3_600)) }
        } catch {
            await server.stop()
            throw error
        }
    }

    /// One line for each refused stretch that begins within `steps`.
    static func announce(_ replay: Replay, entering steps: ClosedRange<Int>, speed: Double, logger: Logger) {
        for stretch in replay.refusedStretches where steps.contains(stretch.lowerBound) {
            let from = (replay.t(at: stretch.lowerBound) - replay.t(at: 0)) / 1_000
            let what = "steps \(stretch.lowerBound)–\(stretch.upperBound) (capture +\(from) s): MediaMTX was down"
            if stretch.upperBound == replay.stepCount - 1 {
                logger.info("\(what); refusing connections from now on, as the capture ends")
            } else {
                let seconds = Double(stretch.count) * 2 / speed
                logger.info("\(what); refusing connections for \(String(format: "%.1f", seconds)) s")
            }
        }
    }
}
