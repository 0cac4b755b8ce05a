/// A webhook receiver as mtxmon names it outside the process: its URL without credentials (the
/// key its deliveries are queued under in the history file, and what `/healthz` and logs show).
/// The URL itself, with the credentials it may hold, stays in the settings and the sender.
public enum WebhookTarget {
    /// The name deliveries to `url` are queued under.
    public static func key(_ url: String) -> String { Redaction.url(url) }
}
