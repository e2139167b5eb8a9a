package dev.agentfn.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.SecretLogFilter;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Filter;
import java.util.logging.Handler;
import java.util.logging.Level;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.junit.jupiter.api.Test;

/**
 * The console handler of the running application redacts the configured Anthropic key from a log line's message,
 * its parameters and its exception, whoever logs it (here: a record built by hand, so the key is never printed even
 * if the filter were missing).
 */
@QuarkusTest
class SecretLogFilterTest {
    static final String KEY = FakeAnthropicResource.TEST_API_KEY;

    @Test
    void theConsoleHandlerRedactsTheConfiguredKeyFromMessagesParametersAndExceptions() {
        List<Filter> filters = new ArrayList<>();
        for (Handler h : LogContext.getLogContext().getLogger("").getHandlers()) {
            collect(h, filters);
        }
        assertFalse(filters.isEmpty(), "the console handler has no filter");

        ExtLogRecord record = new ExtLogRecord(Level.SEVERE, "upstream said %s (%s)", ExtLogRecord.FormatStyle.PRINTF,
                SecretLogFilterTest.class.getName());
        record.setParameters(new Object[] {"invalid x-api-key " + KEY, 401});
        record.setThrown(new IllegalStateException("call failed", new RuntimeException("echoed " + KEY)));
        for (Filter f : filters) { // as the handlers apply them (Quarkus combines ours with its own in an AllFilter)
            assertTrue(f.isLoggable(record), f.toString());
        }

        assertEquals("upstream said invalid x-api-key [REDACTED] (401)", record.getFormattedMessage());
        StringWriter trace = new StringWriter();
        record.getThrown().printStackTrace(new PrintWriter(trace));
        assertFalse(trace.toString().contains(KEY), trace.toString());
        assertTrue(trace.toString().contains("echoed [REDACTED]"), trace.toString());
        assertTrue(trace.toString().contains("IllegalStateException: call failed"), trace.toString());
    }

    @Test
    void aLineWithoutSecretsIsLeftAsItIs() {
        ExtLogRecord record = new ExtLogRecord(Level.INFO, "%d traces at %s", ExtLogRecord.FormatStyle.PRINTF,
                SecretLogFilterTest.class.getName());
        record.setParameters(new Object[] {3, "http://127.0.0.1:5000"});
        new SecretLogFilter().isLoggable(record);
        assertEquals("%d traces at %s", record.getMessage(), "not reformatted");
        assertEquals("3 traces at http://127.0.0.1:5000", record.getFormattedMessage());
    }

    private static void collect(Handler h, List<Filter> out) {
        if (h.getFilter() != null) {
            out.add(h.getFilter());
        }
        if (h instanceof ExtHandler ext) {
            for (Handler child : ext.getHandlers()) {
                collect(child, out);
            }
        }
    }
}
