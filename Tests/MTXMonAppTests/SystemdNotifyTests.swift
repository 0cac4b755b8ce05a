import Foundation
import MTXMonApp
import ServiceLifecycle
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol as mtxmon speaks it, against sockets bound here.
@Suite struct SystemdNotifyTests {
    @Test func readyReachesASocketBoundToAFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let socket = try NotifySocket(address: dir.file("notify"))
        let notify = SystemdNotify(environment: ["NOTIFY_SOCKET": socket.address])
        notify.ready(status: "serving on 127.0.0.1:9990")
        try await eventually("READY=1 arrives") { socket.assignments.contains("READY=1") }
        #expect(socket.assignments.contains("STATUS=serving on 127.0.0.1:9990"))
        #expect(socket.assignments.contains("MAINPID=\(getpid())"))
    }

    @Test func readyReachesASocketInTheAbstractNamespace() async throws {
        let socket = try NotifySocket(address: "@mtxmon-test-\(UUID().uuidString)")
        let notify = SystemdNotify(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notify.send("READY=1"))
        try await eventually("READY=1 arrives") { socket.messages == ["READY=1"] }
    }

    @Test func withoutNotifySocketNothingIsSent() {
        #expect(SystemdNotify(environment: [:]).socketPath == nil)
        #expect(!SystemdNotify(environment: [:]).send("READY=1"))
        #expect(SystemdNotify(environment: ["NOTIFY_SOCKET": "relative/path"]).socketPath == nil)
        #expect(!SystemdNotify(environment: ["NOTIFY_SOCKET": "/nonexistent/notify"]).send("READY=1"),
                "a socket that is gone is reported, not thrown")
    }

    @Test func theNotifierSaysReadyOnStartAndStoppingWhenTheGroupShutsDown() async throws {
        let socket = try NotifySocket(address: "@mtxmon-test-\(UUID().uuidString)")
        let notifier = SystemdNotifier(SystemdNotify(environment: ["NOTIFY_SOCKET": socket.address]),
                                       readyOnStart: "collecting")
        let group = ServiceGroup(configuration: .init(services: [notifier], logger: .init(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("READY=1 arrives") { socket.assignments.contains("READY=1") }
            #expect(!socket.assignments.contains("STOPPING=1"), "not stopping before the shutdown")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(socket.assignments.contains("STOPPING=1"))
        #expect(socket.assignments.firstIndex(of: "READY=1")! < socket.assignments.firstIndex(of: "STOPPING=1")!)
    }
}
