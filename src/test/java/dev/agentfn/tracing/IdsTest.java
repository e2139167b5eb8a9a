package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** W3C Trace Context (https://www.w3.org/TR/trace-context/) parsing of {@code traceparent}: strict, or nothing. */
class IdsTest {
    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String SPAN = "00f067aa0ba902b7";

    @Test
    void validVersion00IsParsed() {
        assertEquals(Optional.of(new Ids.Parent(TRACE, SPAN)), Ids.parseTraceparent("00-" + TRACE + "-" + SPAN + "-01"));
        assertEquals(Optional.of(new Ids.Parent(TRACE, SPAN)), Ids.parseTraceparent("00-" + TRACE + "-" + SPAN + "-00"),
                "not sampled is still a parent");
    }

    @Test
    void higherVersionsMayCarryMoreFieldsAfterADash() {
        assertEquals(Optional.of(new Ids.Parent(TRACE, SPAN)), Ids.parseTraceparent("01-" + TRACE + "-" + SPAN + "-01"));
        assertEquals(Optional.of(new Ids.Parent(TRACE, SPAN)),
                Ids.parseTraceparent("cc-" + TRACE + "-" + SPAN + "-01-what-the-future-brings"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ff-" + TRACE + "-" + SPAN + "-01", // version ff is invalid
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + SPAN + "-01", // upper-case hex
        "00-" + TRACE + "-00F067AA0BA902B7-01",
        "00-" + TRACE + "-" + SPAN + "-0A",
        "0A-" + TRACE + "-" + SPAN + "-01",
        "00-" + TRACE + "-" + SPAN + "-01-extra", // version 00 is exactly 55 characters
        "00-" + TRACE + "-" + SPAN + "-011",
        "01-" + TRACE + "-" + SPAN + "-01x", // a higher version continues only after a dash
        "00-" + TRACE + "0-" + SPAN + "-01", // wrong lengths
        "00-" + "4bf92f3577b34da6a3ce929d0e0e473" + "-" + SPAN + "-01",
        "00-" + TRACE + "-" + "00f067aa0ba902b" + "-01",
        "00-" + TRACE + "-" + SPAN + "-1",
        "0-" + TRACE + "-" + SPAN + "-01",
        "00-00000000000000000000000000000000-" + SPAN + "-01", // all-zero ids
        "00-" + TRACE + "-0000000000000000-01",
        "00_" + TRACE + "_" + SPAN + "_01",
        "00-" + TRACE + "-" + SPAN + "-g1",
        "",
        "garbage"})
    void malformedHeadersAreIgnored(String header) {
        assertTrue(Ids.parseTraceparent(header).isEmpty(), header);
    }

    @Test
    void absentHeaderIsNoParent() {
        assertTrue(Ids.parseTraceparent(null).isEmpty());
    }
}
