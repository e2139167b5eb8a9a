package dev.agentfn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one media-type reader both front doors use; the API's 415 wording is tested in ContentTypeFilterTest. */
class MediaTypeTest {
    @Test
    void parametersAreReadWithQuotedPairsResolvedAndNamesLowerCased() {
        List<MediaType> all = MediaType.parseAll(" application/json ;CharSet=\"utf\\-8\";; x=\"a;b,c\"");
        assertEquals(1, all.size());
        MediaType t = all.get(0);
        assertEquals("application/json", t.type());
        assertEquals(List.of(Map.entry("charset", "utf-8"), Map.entry("x", "a;b,c")), t.parameters());
        assertEquals(List.of("utf-8"), t.parameterValues("CHARSET"));
        assertNull(t.problem());
        assertEquals(List.of("utf-8", "latin1"),
                MediaType.parseAll("application/json; charset=utf-8; charset=latin1").get(0).parameterValues("charset"));
    }

    @Test
    void aListIsSplitAtCommasOutsideQuotedStrings() {
        List<MediaType> all = MediaType.parseAll("application/json; x=\"1,2\", text/plain;charset=latin1");
        assertEquals(List.of("application/json", "text/plain"), all.stream().map(MediaType::type).toList());
        assertEquals(List.of("latin1"), all.get(1).parameterValues("charset"));
        assertTrue(all.stream().allMatch(MediaType::wellFormed));
    }

    @Test
    void aMalformedPartKeepsWhatWasReadBeforeItAndTheNextEntryIsStillRead() {
        List<MediaType> all = MediaType.parseAll("application/json; charset=latin1; =x \",\" y, text/plain; q=1");
        assertEquals(2, all.size(), "the comma inside the stray quotes splits nothing");
        MediaType bad = all.get(0);
        assertFalse(bad.wellFormed());
        assertTrue(bad.problem().contains("parameter '=x"), bad.problem());
        assertEquals(List.of("latin1"), bad.parameterValues("charset"));
        assertEquals(List.of("1"), all.get(1).parameterValues("q"));
    }

    @Test
    void anUnclosedQuoteIsMalformed() {
        MediaType t = MediaType.parseAll("application/json; x=\"a, b").get(0);
        assertFalse(t.wellFormed());
        assertEquals(1, MediaType.parseAll("application/json; x=\"a, b").size());
    }
}
