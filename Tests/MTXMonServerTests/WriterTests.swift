import Foundation
import MTXMonCore
@testable import MTXMonServer
import Testing

@Suite struct JSONWriterTests {
    @Test(arguments: [
        (0.0, 3, "0"), (1.5, 3, "1.5"), (-2.25, 3, "-2.25"), (0.0004, 3, "0"), (0.0005, 3, "0.001"),
        (1_999_999.6, 0, "2000000"), (77.3125, 3, "77.313"), (1e20, 0, "1e+20"), (0.000999, 6, "0.000999"),
    ])
    func numbersAreShortAndRounded(value: Double, decimals: Int, expected: String) {
        var writer = JSONWriter()
        writer.number(value, decimals: decimals)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test func theOutputIsJSONThatRoundTrips() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("name"); writer.string("live/\"cam\"\\1\n\u{1}é")
        writer.key("list"); writer.beginArray(); writer.int(Int64.min); writer.int(42); writer.null()
        writer.beginObject(); writer.endObject(); writer.endArray()
        writer.key("map"); writer.beginObject(); writer.dynamicKey("a,b"); writer.bool(true); writer.endObject()
        writer.key("nan"); writer.number(.nan)
        writer.endObject()
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(parsed["name"] as? String == "live/\"cam\"\\1\n\u{1}é")
        let list = try #require(parsed["list"] as? [Any])
        #expect((list[0] as? NSNumber)?.int64Value == Int64.min)
        #expect(list[1] as? Int == 42)
        #expect(list[2] is NSNull)
        #expect((parsed["map"] as? [String: Bool]) == ["a,b": true])
        #expect(parsed["nan"] is NSNull)
    }

    @Test func csvQuotesOnlyWhatNeedsIt() {
        var csv = CSVWriter()
        csv.field("plain")
        csv.field("a,b")
        csv.field("say \"hi\"")
        csv.number(nil, last: true)
        #expect(String(decoding: csv.bytes, as: UTF8.self) == "plain,\"a,b\",\"say \"\"hi\"\"\",\n")
    }
}
