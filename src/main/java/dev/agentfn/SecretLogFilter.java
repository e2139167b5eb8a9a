package dev.agentfn;

import dev.agentfn.config.Secrets;
import io.quarkus.logging.LoggingFilter;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.jboss.logmanager.ExtLogRecord;

/**
 * Every log line, agentfn's and its libraries', passes here before a handler writes it: a configured credential in
 * the message, its parameters or an exception's messages becomes {@value Secrets#REDACTED}. Traces and answers are
 * redacted where they are made; this is the net under every log statement, including those that log an upstream
 * exception whose message repeats a key. Enabled by {@code quarkus.log.console.filter} (and the file handler's).
 *
 * <p>Quarkus builds the filter before any bean exists, so the credentials arrive through {@link #use} at start-up
 * ({@link Installer}); before that, only Quarkus' own boot lines are logged.
 */
@LoggingFilter(name = SecretLogFilter.NAME)
public final class SecretLogFilter implements Filter {
    public static final String NAME = "agentfn-secrets";
    private static volatile Secrets secrets = Secrets.NONE;

    /** The credentials to keep out of logs from now on. */
    public static void use(Secrets configured) {
        secrets = configured;
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        Secrets s = secrets;
        if (s.values().isEmpty()) {
            return true;
        }
        String message = formatted(record);
        String redacted = s.redact(message);
        if (message != null && !message.equals(redacted)) {
            if (record instanceof ExtLogRecord ext) {
                ext.setMessage(redacted, ExtLogRecord.FormatStyle.NO_FORMAT);
            } else {
                record.setMessage(redacted);
            }
            record.setParameters(null);
        }
        if (record.getThrown() != null && mentions(record.getThrown(), s)) {
            record.setThrown(LogText.rewrite(record.getThrown(), s::redact));
        }
        return true;
    }

    private static String formatted(LogRecord record) {
        if (record instanceof ExtLogRecord ext) {
            return ext.getFormattedMessage();
        }
        return record.getParameters() == null ? record.getMessage() : new SimpleFormatter().formatMessage(record);
    }

    private static boolean mentions(Throwable t, Secrets s) {
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            String text = t.toString();
            if (!text.equals(s.redact(text))) {
                return true;
            }
        }
        return false;
    }

    /** Hands the deployment's credentials to the filter when the application starts. */
    @Singleton
    static final class Installer {
        void start(@Observes StartupEvent event, Secrets configured) {
            use(configured);
        }
    }
}
