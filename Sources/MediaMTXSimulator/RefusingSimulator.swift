import Logging

extension PortListener {
    /// Serves `simulator` until the calling task is cancelled, closing the port for as long as
    /// each `POST /sim/fault?mode=refuse&ms=…` asks. Returns with the port closed.
    public func serve(_ simulator: Simulator, logger: Logger) async throws {
        // The request that asks for the outage must be answered first, so the handler only
        // queues it; the newest request wins if several arrive before the loop takes one.
        let (requests, request) = AsyncStream.makeStream(of: Duration.self, bufferingPolicy: .bufferingNewest(1))
        simulator.onRefuse { request.yield($0) }
        defer { simulator.onRefuse(nil) }
        do {
            try await open()
            for await duration in requests {
                await close()
                logger.info("refusing connections on \(host):\(port) for \(duration)")
                try await Task.sleep(for: duration)
                try await open()
                logger.info("listening again on \(host):\(port)")
            }
        } catch is CancellationError {
        } catch {
            await close()
            throw error
        }
        await close()
    }
}
