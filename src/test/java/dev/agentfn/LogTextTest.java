package dev.agentfn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Caller text in a log line stays on that line and shows its control characters. */
class LogTextTest {

    @Test
    void controlCharactersAreEscapedAndPlainTextIsKept() {
        String plain = "claude-sonnet-4-5-20250929";
        assertSame(plain, LogText.escape(plain));
        assertEquals("a\\nINFO forged\\r\\tb\\u0000c\\u001b[31m\\u2028d\\\\n\\u0085",
                LogText.escape("a\nINFO forged\r\tb\u0000c\u001b[31m\u2028d\\n\u0085"));
        assertEquals("null", LogText.escape((Object) null));
        assertEquals("ünïcødé ✓", LogText.escape("ünïcødé ✓"));
    }

    @Test
    void longTextIsCut() {
        String cut = LogText.escape("x".repeat(5000));
        assertTrue(cut.startsWith("x".repeat(LogText.MAX_CHARS) + "…(4000 more chars)"), cut);
    }

    @Test
    void aThrowableKeepsItsFramesAndCausesWithEscapedMessages() {
        Exception original = new IllegalStateException("bad model 'x\nFORGED'",
                new IllegalArgumentException("cause\u0000here"));
        Throwable safe = LogText.escape(original);
        StringWriter out = new StringWriter();
        safe.printStackTrace(new PrintWriter(out));
        String printed = out.toString();
        assertTrue(printed.startsWith("java.lang.IllegalStateException: bad model 'x\\nFORGED'"), printed);
        assertTrue(printed.contains("Caused by: java.lang.IllegalArgumentException: cause\\u0000here"), printed);
        assertTrue(printed.contains("LogTextTest.aThrowableKeepsItsFramesAndCausesWithEscapedMessages"), printed);
        assertEquals(-1, printed.indexOf('\u0000'));
        assertTrue(printed.lines().noneMatch(l -> l.startsWith("FORGED")), printed);
    }
}
