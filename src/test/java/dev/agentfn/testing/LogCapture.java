package dev.agentfn.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The application's log lines as a test class sees them ({@code @RegisterExtension static final LogCapture LOG}):
 * each formatted message with its exceptions' chain, captured from the root logger for the class's tests and
 * cleared before each test, so a test can assert what caller text did (or did not) reach the log.
 */
public final class LogCapture implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            StringBuilder line = new StringBuilder(r instanceof ExtLogRecord e ? String.valueOf(e.getFormattedMessage())
                    : String.valueOf(r.getMessage()));
            for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                line.append(" | ").append(t);
            }
            lines.add(line.toString());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** The lines logged since the current test began. */
    public List<String> lines() {
        return lines;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Logger.getLogger("").addHandler(handler);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Logger.getLogger("").removeHandler(handler);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        lines.clear();
    }
}
