import CCurl
import Foundation
import MTXMonCore
import NIOPosix

/// Notifications by mail: one message per incident change, sent through libcurl's SMTP to the
/// server of `MTXMON_SMTP_URL` (`smtp://host:587`, or `smtps://host:465`; `user:password@` in it
/// logs in), from `MTXMON_SMTP_FROM` to each of `MTXMON_SMTP_TO`. With STARTTLS required
/// (`MTXMON_SMTP_STARTTLS`, on by default for `smtp://` except on loopback) a server that does
/// not offer it is refused rather than sent the message in clear.
public struct MailSettings: Sendable, Equatable {
    public var url: String
    public var from: String
    public var to: [String]
    public var startTLS: Bool
    /// A CA bundle to trust instead of the system's (a private mail relay).
    public var caFile: String?

    public init(url: String, from: String, to: [String], startTLS: Bool, caFile: String? = nil) {
        self.url = url
        self.from = from
        self.to = to
        self.startTLS = startTLS
        self.caFile = caFile
    }

    /// The name its deliveries are queued under: the URL without credentials.
    public var key: String { Redaction.url(url) }
}

enum MailSender {
    /// The message for one stored event: headers (RFC 5322), then the sentence and the facts.
    static func message(_ event: MonitorEvent, settings: MailSettings, now: Date = Date()) -> [UInt8] {
        let incident = Incident(event)
        let status = incident.map { $0.status == .resolved ? "RESOLVED" : "FIRING \(event.severity.rawValue)" } ?? event.severity.rawValue
        let subject = "[mtxmon] \(status): \(event.message.prefix(150))"
        var lines = [
            "From: \(settings.from)",
            "To: \(settings.to.joined(separator: ", "))",
            "Subject: \(encodedWord(String(subject)))",
            "Date: \(rfc5322(now))",
            "Message-ID: <\(incident?.id ?? "event")-\(event.id ?? 0)-\(event.ts)@mtxmon>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            event.message,
            "",
        ]
        if let server = event.server { lines.append("Server: \(server)") }
        if let path = event.path { lines.append("Path: \(path)") }
        if let incident {
            lines.append("Incident: \(incident.id) (\(incident.cause.rawValue), \(incident.status.rawValue))")
            lines.append("Started: \(TimeArgument.rfc3339(milliseconds: incident.start))")
            if let end = incident.end { lines.append("Ended: \(TimeArgument.rfc3339(milliseconds: end))") }
        }
        // SMTP lines end in CRLF; a line that is a lone dot is escaped by libcurl.
        return Array(lines.joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    /// Non-ASCII subjects as one RFC 2047 encoded word.
    static func encodedWord(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 0x20 }) else { return text }
        return "=?utf-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss +0000"
        return formatter.string(from: date)
    }

    /// The message being uploaded, and how far libcurl has read it.
    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Sends on a thread made for blocking work; `nil` when the server took it, else why not.
    static func send(_ event: MonitorEvent, settings: MailSettings, timeout: Duration) async -> String? {
        let body = message(event, settings: settings)
        do {
            return try await NIOThreadPool.singleton.runIfActive { deliver(body, settings: settings, timeout: timeout) }
        } catch {
            return "not sent: \(error)"
        }
    }

    static func deliver(_ body: [UInt8], settings: MailSettings, timeout: Duration) -> String? {
        guard let curl = curl_easy_init() else { return "libcurl could not start a transfer" }
        defer { curl_easy_cleanup(curl) }
        let (plain, user, password) = Redaction.credentials(in: settings.url)
        var recipients: UnsafeMutablePointer<curl_slist>?
        for to in settings.to { recipients = curl_slist_append(recipients, "<\(address(to))>") }
        defer { curl_slist_free_all(recipients) }
        let upload = Upload(body)
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            _ = mtxmon_curl_set_string(curl, CURLOPT_URL, plain)
            if let user { _ = mtxmon_curl_set_string(curl, CURLOPT_USERNAME, user) }
            if let password { _ = mtxmon_curl_set_string(curl, CURLOPT_PASSWORD, password) }
            _ = mtxmon_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(address(settings.from))>")
            _ = mtxmon_curl_set_pointer(curl, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients))
            if settings.startTLS { _ = mtxmon_curl_set_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if let ca = settings.caFile { _ = mtxmon_curl_set_string(curl, CURLOPT_CAINFO, ca) }
            _ = mtxmon_curl_set_long(curl, CURLOPT_UPLOAD, 1)
            _ = mtxmon_curl_set_long(curl, CURLOPT_TIMEOUT_MS, Int(timeout.milliseconds))
            _ = mtxmon_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
            _ = mtxmon_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errors.baseAddress))
            _ = mtxmon_curl_set_pointer(curl, CURLOPT_READDATA, context.toOpaque())
            _ = mtxmon_curl_set_read_function(curl) { buffer, size, count, data in
                guard let buffer, let data else { return 0 }
                let upload = Unmanaged<Upload>.fromOpaque(data).takeUnretainedValue()
                let n = min(size * count, upload.bytes.count - upload.offset)
                upload.bytes.withUnsafeBufferPointer { source in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: n)
                }
                upload.offset += n
                return n
            }
            return curl_easy_perform(curl)
        }
        guard code != CURLE_OK else { return nil }
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let words = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return Redaction.url(words)
    }

    /// `Ops <ops@example.net>` → `ops@example.net`.
    static func address(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            return text.trimmingCharacters(in: .whitespaces)
        }
        return String(text[text.index(after: open)..<close])
    }
}
