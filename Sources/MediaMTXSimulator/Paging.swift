/// MediaMTX's list paging, shared by the simulator and the replay so both page as the real
/// server does: an empty list has `pageCount` 0, a page past the end is an empty page.
public enum Paging {
    public static let defaultItemsPerPage = 100

    /// The `page` and `itemsPerPage` of a query, or the message MediaMTX answers 400 with.
    public static func parameters(page: String?, itemsPerPage: String?) -> Result<(page: Int, itemsPerPage: Int), PagingError> {
        let page = page.map { Int($0) } ?? 0
        let perPage = itemsPerPage.map { Int($0) } ?? defaultItemsPerPage
        guard let page, page >= 0 else { return .failure(PagingError(message: "invalid page")) }
        guard let perPage, perPage >= 1 else { return .failure(PagingError(message: "invalid items per page")) }
        return .success((page, perPage))
    }

    /// One page of `items`, with the counts of the whole list.
    public static func page(_ items: [JSON], page: Int, itemsPerPage: Int) -> JSON {
        // Arranged so that no query, however large its numbers, can overflow.
        let pageCount = items.isEmpty ? 0 : (items.count - 1) / itemsPerPage + 1
        let start = page >= pageCount ? items.count : page * itemsPerPage
        let end = start + min(itemsPerPage, items.count - start)
        return .object([
            ("itemCount", .int(Int64(items.count))),
            ("pageCount", .int(Int64(pageCount))),
            ("items", .array(Array(items[start..<end]))),
        ])
    }
}

public struct PagingError: Error, Sendable {
    public let message: String
}
