import Synchronization

/// The one place where a URL is made fit to leave the process, and where secrets are known so that
/// no log line carries them.
///
/// Operators put credentials where URLs go (`http://user:pass@host:9997`, a webhook's
/// `?token=…`). mtxmon takes them out once, where settings are read: userinfo becomes the
/// credentials it is meant as, and every URL shown anywhere (API, health, events, Redis, webhook
/// bodies, logs, error messages, the history file) is `url(_:)`'s form.
public enum Redaction {
    /// What stands for a hidden secret.
    public static let mask = "***"

    /// Query parameters whose value is a secret by name (lower case, compared without case).
    static let secretParameters: Set<String> = [
        "token", "access_token", "auth", "authorization", "key", "apikey", "api_key", "pass", "password", "secret",
        "signature", "sig", "code",
    ]

    /// A URL split at its userinfo: the URL without it, and the user and password it held
    /// (percent-decoded). Text that is not `scheme://…` comes back as it was.
    public static func credentials(in url: String) -> (url: String, user: String?, password: String?) {
        guard let parts = Parts(url), let userinfo = parts.userinfo else { return (url, nil, nil) }
        let stripped = parts.scheme + "://" + parts.hostAndRest
        if let colon = userinfo.firstIndex(of: ":") {
            return (stripped, percentDecoded(String(userinfo[..<colon])),
                    percentDecoded(String(userinfo[userinfo.index(after: colon)...])))
        }
        return (stripped, percentDecoded(String(userinfo)), nil)
    }

    /// `url` as it may be shown: without userinfo, and with the values of query parameters named
    /// like secrets (`token`, `key`, `password`, …) replaced by `***`. Anything that is not a URL is
    /// returned as it is, unless it holds an `@` before its first `/`, which may be a userinfo
    /// without a scheme: that part is masked.
    public static func url(_ text: String) -> String {
        guard let parts = Parts(text) else {
            if let at = text.firstIndex(of: "@"), !text[..<at].contains("/") { return mask + text[at...] }
            return text
        }
        var shown = parts.scheme + "://" + parts.hostAndRest
        if let question = shown.firstIndex(of: "?") {
            let head = shown[..<question]
            var query = String(shown[shown.index(after: question)...])
            var fragment = ""
            if let hash = query.firstIndex(of: "#") {
                fragment = String(query[hash...])
                query = String(query[..<hash])
            }
            let masked = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
                let name = pair[..<eq].lowercased()
                return secretParameters.contains(name) ? "\(pair[..<eq])=\(mask)" : String(pair)
            }
            shown = head + "?" + masked.joined(separator: "&") + fragment
        }
        return shown
    }

    /// Free text from elsewhere (MediaMTX's `lastError` of a forward destination) that may quote
    /// a URL with its credentials or stream key: every word that is a URL loses its userinfo and
    /// its whole query, every `user:pass@host` word its userinfo, and known secrets are masked.
    public static func freeText(_ text: String) -> String {
        var out = ""
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            // Punctuation that ends a sentence or a Go error's prefix ("url: refused") is not the URL's.
            var trailing = ""
            while let last = word.last, ":;,.".contains(last) {
                trailing = String(last) + trailing
                word.removeLast()
            }
            defer { out += trailing }
            if let parts = Parts(word) {
                var rest = String(parts.hostAndRest)
                if let question = rest.firstIndex(of: "?") { rest = rest[..<question] + "?" + mask }
                out += parts.scheme + "://" + (parts.userinfo == nil ? "" : mask + "@") + rest
            } else if let at = word.firstIndex(of: "@"), !word[..<at].contains("/") {
                out += mask + word[at...]
            } else {
                out += word
            }
            word = ""
        }
        for ch in text {
            if ch.isWhitespace || ch == "\"" || ch == "'" || ch == "," || ch == "(" || ch == ")" {
                flush()
                out.append(ch)
            } else {
                word.append(ch)
            }
        }
        flush()
        return Secrets.scrub(out)
    }

    /// `scheme://[userinfo@]rest`, cut where the authority's userinfo ends.
    struct Parts {
        let scheme: String
        let userinfo: Substring?
        let hostAndRest: Substring

        init?(_ text: String) {
            guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return nil }
            let scheme = text[..<colon]
            guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
                return nil
            }
            self.scheme = String(scheme)
            let afterScheme = text[text.index(colon, offsetBy: 3)...]
            let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                userinfo = authority[..<at]
                hostAndRest = afterScheme[afterScheme.index(after: at)...]
            } else {
                userinfo = nil
                hostAndRest = afterScheme
            }
        }
    }

    /// `text` with `%XX` escapes decoded (as URLs carry userinfo and query values).
    public static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%"), utf8.count >= 2, let hi = hex(utf8[utf8.startIndex]),
               let lo = hex(utf8[utf8.startIndex + 1]) {
                bytes.append(hi << 4 | lo)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The secrets this process was given (passwords, tokens, the webhook key), so that the log
/// handler can take them out of every line at every level, whatever library wrote it.
public enum Secrets {
    private static let known = Mutex<[String]>([])

    /// Remembers `secret` (and the forms it travels in: base64 of `user:secret` for basic auth is
    /// registered by the caller that builds it). Secrets shorter than 4 characters are not
    /// masked: they would mask ordinary words.
    public static func register(_ secret: String?) {
        guard let secret, secret.count >= 4 else { return }
        known.withLock { list in
            if !list.contains(secret) {
                list.append(secret)
                // Longest first, so a secret that contains another is masked whole.
                list.sort { $0.count > $1.count }
            }
        }
    }

    /// `text` with every known secret replaced by `***`.
    public static func scrub(_ text: String) -> String {
        let list = known.withLock { $0 }
        guard !list.isEmpty else { return text }
        var result = text
        for secret in list where result.contains(secret) {
            result = result.replacing(secret, with: Redaction.mask)
        }
        return result
    }
}
