import MTXMonCore
import Testing

@Suite struct CSVCellTests {
    /// OWASP's CSV injection advice: a cell a spreadsheet would run is written as text.
    @Test(arguments: ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
    func formulasAreMadeText(_ text: String) {
        let cell = CSVCell.text(text)
        #expect(cell.hasPrefix("'") || cell.hasPrefix("\"'"))
    }

    @Test func plainTextAndQuotingStayAsRFC4180Has() {
        #expect(CSVCell.text("live/cam1") == "live/cam1")
        #expect(CSVCell.text("a,b") == "\"a,b\"")
        #expect(CSVCell.text("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVCell.text("=1,2") == "\"'=1,2\"")
    }
}

@Suite struct RedactionTests {
    @Test func userinfoAndSecretParametersNeverShow() {
        #expect(Redaction.url("http://u:p@h:9997/v3") == "http://h:9997/v3")
        #expect(Redaction.url("https://h/hook?token=abc&x=1&Key=k#f") == "https://h/hook?token=***&x=1&Key=***#f")
        #expect(Redaction.url("u:p@h:1") == "***@h:1")
        #expect(Redaction.url("not a url") == "not a url")
        let (url, user, password) = Redaction.credentials(in: "http://a%3Ab:p%25w@[::1]:9997/")
        #expect(url == "http://[::1]:9997/")
        #expect(user == "a:b")
        #expect(password == "p%w")
    }
}
