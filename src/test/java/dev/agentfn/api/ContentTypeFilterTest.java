package dev.agentfn.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9110's media-type grammar, as the 415 check reads a {@code Content-Type}: one application/json in UTF-8. */
class ContentTypeFilterTest {
    @ParameterizedTest
    @ValueSource(strings = {"application/json", "APPLICATION/JSON", " application/json ", "application/json;",
        "application/json;;", "application/json ; charset=utf-8", "application/json;charset=\"UTF-8\"",
        "application/json; x=\"a;b,c\"; charset=utf-8", "application/json; x=\"a\\\"b\"", "application/json;\tq=1"})
    void oneJsonInUtf8IsAccepted(String value) {
        assertNull(ContentTypeFilter.contentTypeProblem(List.of(value)), value);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "application/json; x=\"a|is malformed",
        "application/json; x=\"a\\|is malformed",
        "application/json; charset|is malformed",
        "application/json; =utf-8|is malformed",
        "application/json; charset=|is malformed",
        "application/json; ch@rset=utf-8|is malformed",
        "application/json; x=a b|is malformed after its parameters",
        "application/json; x=\"a\"b|is malformed after its parameters",
        "application/json; charset=latin1|charset 'latin1' is not UTF-8",
        "application/json; charset=\"utf\\-16\"|charset 'utf-16' is not UTF-8",
        "application/json; charset=utf-8; charset=latin1|charset 'latin1' is not UTF-8",
        "application/json, text/plain|several Content-Type values",
        "application/json; charset=utf-8, text/plain|several Content-Type values",
        "application/|is not application/json",
        "application/json5|is not application/json",
        "*/*|is not application/json"})
    void anythingElseIsNamed(String value, String problem) {
        String p = ContentTypeFilter.contentTypeProblem(List.of(value));
        assertNotNull(p, value);
        assertTrue(p.contains(problem), value + ": " + p);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " "})
    void blankIsNoContentType(String value) {
        assertEquals("the request has no Content-Type", ContentTypeFilter.contentTypeProblem(List.of(value)));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void noneOrTwoHeaders(int n) {
        List<String> values = n == 0 ? List.of() : List.of("application/json", "application/json");
        assertNotNull(ContentTypeFilter.contentTypeProblem(values));
    }
}
