package dev.agentfn.tracing.spool;

import dev.agentfn.mlflow.entities.Trace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A spool in a local directory. Each trace is one file, written to a temporary name, fsynced, then
 * renamed into place and the directory fsynced: a crash leaves either the whole file or none under
 * its final name. Files are named {@code <request time ms>-<trace id>.json}, so names sort oldest
 * first and spooling the same trace again replaces it. Files that cannot be decoded (torn by a
 * crash, or written by another version) move to {@code corrupt/}, traces MLflow refused for good to
 * {@code rejected/}; both are logged and kept (moving a file back into the directory redelivers it).
 * Temporary files a crash left behind are removed when the spool opens.
 */
public final class DirectoryTraceSpool implements TraceSpool {
    private static final Logger LOG = Logger.getLogger(DirectoryTraceSpool.class);
    private static final String SUFFIX = ".json";
    private static final String TMP = ".tmp-";

    private final Path dir;
    private final int maxTraces;
    private final TraceCodec codec;
    // What the last listing saw; lets the drainer skip listing the directory after every delivered export.
    private volatile boolean mayHoldTraces = true;

    public DirectoryTraceSpool(Path dir, int maxTraces, TraceCodec codec) throws IOException {
        this.dir = dir;
        this.maxTraces = maxTraces;
        this.codec = codec;
        Files.createDirectories(dir);
        removeLeftoverTemporaries();
    }

    @Override
    public synchronized String put(Trace trace) throws IOException {
        String name = String.format("%013d-%s%s", trace.info().requestTimeMillis(), trace.info().traceId(), SUFFIX);
        Path tmp = dir.resolve(TMP + UUID.randomUUID());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(codec.encode(trace));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        move(tmp, dir.resolve(name));
        syncDirectory();
        enforceBound();
        return name;
    }

    @Override
    public synchronized List<SpooledTrace> oldest(int max) {
        List<SpooledTrace> out = new ArrayList<>();
        for (Path p : entries()) {
            if (out.size() >= max) {
                break;
            }
            try {
                out.add(new SpooledTrace(p.getFileName().toString(), codec.decode(Files.readAllBytes(p))));
            } catch (IOException | RuntimeException e) {
                setAside(p, "corrupt", "unreadable: " + e.getMessage());
            }
        }
        return out;
    }

    @Override
    public synchronized void remove(String handle) {
        if (handle.contains("/") || handle.contains("\\") || !handle.endsWith(SUFFIX)) {
            return;
        }
        try {
            Files.deleteIfExists(dir.resolve(handle));
        } catch (IOException e) {
            LOG.warnf("Could not delete delivered trace %s from the spool: %s", handle, e.getMessage());
        }
    }

    @Override
    public synchronized void reject(String handle, String reason) {
        if (handle.contains("/") || handle.contains("\\") || !handle.endsWith(SUFFIX)) {
            return;
        }
        Path p = dir.resolve(handle);
        if (Files.exists(p)) {
            setAside(p, "rejected", "MLflow refused it: " + reason);
        }
    }

    @Override
    public synchronized int size() {
        return entries().size();
    }

    @Override
    public boolean mayHoldTraces() {
        return mayHoldTraces;
    }

    public Path directory() {
        return dir;
    }

    private List<Path> entries() {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(SUFFIX) && !n.startsWith(".") && Files.isRegularFile(p);
            }).sorted().toList();
            mayHoldTraces = !found.isEmpty();
            return found;
        } catch (IOException e) {
            LOG.errorf("Spool directory %s is unreadable: %s", dir, e.getMessage());
            return List.of();
        }
    }

    private void enforceBound() {
        List<Path> all = entries();
        for (int i = 0; i < all.size() - maxTraces; i++) {
            try {
                Files.deleteIfExists(all.get(i));
                LOG.errorf("Spool full (%d traces): dropped the oldest trace %s; it is lost", maxTraces,
                        all.get(i).getFileName());
            } catch (IOException e) {
                LOG.warnf("Could not drop %s: %s", all.get(i), e.getMessage());
            }
        }
    }

    private void setAside(Path p, String folder, String why) {
        try {
            Path target = Files.createDirectories(dir.resolve(folder));
            Files.move(p, target.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            LOG.errorf("Spooled trace %s %s; moved to %s", p.getFileName(), why, target);
        } catch (IOException e) {
            LOG.errorf("Spooled trace %s %s, and could not be moved: %s", p, why, e.getMessage());
        }
    }

    /** A {@code .tmp-} file is a write that never reached its rename: the trace was not spooled. */
    private void removeLeftoverTemporaries() {
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().startsWith(TMP)).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                    LOG.warnf("Removed %s, an unfinished spool write from an earlier process", p.getFileName());
                } catch (IOException e) {
                    LOG.warnf("Could not remove %s: %s", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            LOG.warnf("Could not list spool directory %s: %s", dir, e.getMessage());
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the rename itself durable; not every file system allows opening a directory, which is fine. */
    private void syncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the file's own data was already forced
        }
    }
}
