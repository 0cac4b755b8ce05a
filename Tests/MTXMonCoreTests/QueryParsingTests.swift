import MTXMonCore
import Testing

@Suite struct TimeArgumentTests {
    let now: Int64 = 1_800_000_000_000

    @Test(arguments: [
        ("2027-01-15T08:00:00Z", 1_800_000_000_000),
        ("2027-01-15T08:00:00.25Z", 1_800_000_000_250),
        ("2027-01-15T09:30:00+01:30", 1_800_000_000_000),
        ("2027-01-15 08:00:00z", 1_800_000_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("1800000000", 1_800_000_000_000),
        ("1800000000.5", 1_800_000_000_500),
        ("now", 1_800_000_000_000),
        ("now-15m", 1_799_999_100_000),
        ("now-24h", 1_799_913_600_000),
        ("now+1s", 1_800_000_001_000),
    ])
    func acceptsWhatOperatorsType(text: String, expected: Int64) throws {
        #expect(try TimeArgument.milliseconds(text, parameter: "from", now: now) == expected)
    }

    @Test(arguments: ["yesterday", "2027-02-30T00:00:00Z", "2027-01-15T08:00:00", "2027-01-15T25:00:00Z",
                      "now-", "now-soon", "-5", "1800000000000", "", "2027-01-15T08:00:00+0100"])
    func refusesWithTheParameterNamed(text: String) {
        #expect(throws: QueryError.self) { try TimeArgument.milliseconds(text, parameter: "from", now: now) }
        do {
            _ = try TimeArgument.milliseconds(text, parameter: "from", now: now)
        } catch {
            #expect(error.parameter == "from")
            #expect(error.message.contains("from="))
        }
    }

    @Test func printsRFC3339ForCSV() {
        #expect(TimeArgument.rfc3339(milliseconds: 1_800_000_000_250) == "2027-01-15T08:00:00.250Z")
        #expect(TimeArgument.rfc3339(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(TimeArgument.rfc3339(milliseconds: 1_709_164_800_000) == "2024-02-29T00:00:00.000Z")
    }
}

@Suite struct HistoryRangeTests {
    let now: Int64 = 1_800_000_000_000

    func parse(_ from: String? = nil, _ to: String? = nil, step: String? = nil, agg: String? = nil) throws(QueryError) -> HistoryRange {
        try HistoryRange.parse(from: from, to: to, step: step, aggregation: agg, now: now, interval: 2_000)
    }

    @Test func defaultsToThePastHourRaw() throws {
        #expect(try parse() == HistoryRange(from: now - 3_600_000, to: now, step: nil, aggregation: .avg))
    }

    @Test func aStepNoLongerThanTheIntervalIsRaw() throws {
        #expect(try parse(step: "2s").step == nil)
        #expect(try parse(step: "1m", agg: "max") == HistoryRange(from: now - 3_600_000, to: now, step: 60_000, aggregation: .max))
        #expect(try parse(step: "90").step == 90_000, "bare numbers are seconds")
    }

    @Test func theLimitIsElevenThousandPointsPerSeries() throws {
        // 21,996 s at 2 s is 10,998 intervals, 11,000 points with both ends and bucket alignment.
        #expect(throws: Never.self) { try parse("now-21996s") }
        do {
            _ = try parse("now-21998s")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.parameter == "step")
            #expect(error.message.contains("step=3s"))
        }
    }

    @Test func refusesInvertedRangesAndUnknownAggregations() {
        #expect(throws: QueryError("from", "from (1800000000000 ms) must be before to (1799996400000 ms): e.g. from=now-1h&to=now")) {
            try parse("now", "now-1h")
        }
        #expect(throws: QueryError.self) { try parse(step: "1m", agg: "p99") }
        #expect(throws: QueryError.self) { try parse(step: "0s") }
    }
}

@Suite struct WindowRatesTests {
    @Test func aResetCountsTheNewCounterAsPrometheusIncreaseDoes() {
        let rows = [
            CounterRow(ts: 0, inboundBytes: 1_000, readers: 1),
            CounterRow(ts: 2_000, inboundBytes: 3_000, bitrateIn: 8_000, readers: 1),
            CounterRow(ts: 4_000, reset: true, inboundBytes: 500, readers: 1),
            CounterRow(ts: 6_000, inboundBytes: 2_500, bitrateIn: 8_000, readers: 3),
        ]
        let rates = WindowRates.compute(rows, from: 0, to: 6_000, maxGapMs: 7_000)
        #expect(rates.bytesIn == 2_000 + 500 + 2_000)
        #expect(rates.resets == 1)
        #expect(rates.coveredMs == 6_000)
        #expect(rates.bitrateIn.avg == 4_500 * 8 / 6.0)
        #expect(rates.bitrateIn.last == 8_000)
        #expect(rates.readerMinutes == 3 * 2_000 / 60_000.0)
        #expect(rates.srt == nil)
    }

    /// Restarts are the collector's verdict, counted as `history` shows them; a counter that went
    /// down without one (a file written by an older mtxmon) still counts its new value as the increase.
    @Test func restartsAreTheFlaggedSamplesAndACounterThatWentDownCountsItsNewValue() {
        let rows = [CounterRow(ts: 0, inboundBytes: 10_000), CounterRow(ts: 2_000, inboundBytes: 400)]
        let rates = WindowRates.compute(rows, from: 0, to: 2_000, maxGapMs: 7_000)
        #expect(rates.bytesIn == 400)
        #expect(rates.resets == 0)
        let flagged = [CounterRow(ts: 0, reset: true, inboundBytes: 10), CounterRow(ts: 2_000, inboundBytes: 400)]
        #expect(WindowRates.compute(flagged, from: 0, to: 2_000, maxGapMs: 7_000).resets == 1,
                "a restart at the window's first sample is in the window")
    }

    /// The window's average counts the time without bytes; the average while online is the mean of
    /// the per-poll bitrates, so it lies between their lowest and highest.
    @Test func theAverageWhileOnlineLeavesTheOutageOut() {
        let rows = [
            CounterRow(ts: 0, inboundBytes: 0),
            CounterRow(ts: 2_000, inboundBytes: 500, bitrateIn: 2_000),
            CounterRow(ts: 4_000, inboundBytes: 1_000, bitrateIn: 2_000),
            // 20 s without an answer: the stream went on, no bitrate for the gap.
            CounterRow(ts: 24_000, inboundBytes: 6_000),
            CounterRow(ts: 26_000, inboundBytes: 6_500, bitrateIn: 2_000),
        ]
        let rates = WindowRates.compute(rows, from: 0, to: 26_000, maxGapMs: 7_000)
        #expect(rates.bitrateIn.avgOnline == 2_000)
        #expect(rates.onlineMs == 6_000)
        #expect(rates.bitrateIn.avg == 6_500 * 8 / 26.0)
    }

    @Test func nothingInTheWindowIsNoFigures() {
        let rates = WindowRates.compute([], from: 0, to: 60_000, maxGapMs: 7_000)
        #expect(rates.samples == 0)
        #expect(rates.coveredFrom == nil)
        #expect(rates.bitrateIn.avg == nil)
    }
}
