package dev.agentfn.tracing.spool;

import dev.agentfn.LogText;
import dev.agentfn.mlflow.entities.Trace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A spool in a local directory. Each trace is one file, written to a temporary name, fsynced, then
 * renamed into place and the directory fsynced: a crash leaves either the whole file or none under
 * its final name. Files are named {@code <request time ms>-<trace id>+<write stamp>.json}: names sort
 * oldest first, and the copies of one trace by the order they were written. A copy is named for its write
 * because a trace is written more than once (a gateway turn after each of its calls), and a handle must
 * delete only the copy MLflow confirmed: with one name per trace, the late confirmation of an earlier write
 * deleted the newer copy that had replaced it. Spooling a trace again deletes its earlier copies once the new
 * one is durable; a listing that still finds several (a crash in between) keeps the newest. (Files named
 * {@code <request time ms>-<trace id>.json}, by an older agentfn, count as the oldest copy of their trace.)
 * Files that cannot be decoded (torn by a
 * crash, or written by another version) move to {@code corrupt/}, traces MLflow refused for good to
 * {@code rejected/}; both are logged and kept (moving a file back into the directory redelivers it).
 * Temporary files a crash left behind are removed when the spool opens.
 *
 * <p>Every file records the destination (tracking server and experiment, never a credential) it was
 * spooled for, and this spool returns only traces of its own destination: a file of another one, copied
 * or moved here, is neither sent nor moved nor dropped. A file with no recorded destination (written by
 * an older agentfn, and moved here by an operator) is taken as this directory's. {@link
 * #directoryFor} gives each destination a directory of its own below a shared root, so two deployments
 * on one host (or one volume) never meet by accident.
 *
 * <p>Writes run in parallel: spooling is what every answer waits on when MLflow falls behind, so a
 * burst must not queue behind one lock. Each write forces its own file, and one directory fsync covers
 * every rename that finished before it started (group commit). The bound is kept with an in-memory
 * index of names, refreshed by every listing, instead of listing the directory on each write.
 */
public final class DirectoryTraceSpool implements TraceSpool {
    private static final Logger LOG = Logger.getLogger(DirectoryTraceSpool.class);
    private static final String SUFFIX = ".json";
    private static final String TMP = ".tmp-";
    /** Separates a file's trace from its write stamp; never part of a trace id. */
    private static final char STAMP = '+';
    /** Write stamps, microseconds since the epoch made unique and increasing in this process. */
    private static final AtomicLong LAST_STAMP = new AtomicLong();

    private final Path dir;
    private final String destination;
    private final int maxTraces;
    private final TraceCodec codec;
    // What the last listing saw; lets the drainer skip listing the directory after every delivered export.
    private volatile boolean mayHoldTraces = true;
    /** Names spooled, oldest first: the last listing plus what this process stored since. Guarded by itself. */
    private final TreeSet<String> index = new TreeSet<>();
    private long stores; // guarded by index: a listing that overlapped a store must not call the spool empty
    /** Renames finished so far; a directory fsync started after a rename's ticket makes that rename durable. */
    private final AtomicLong renames = new AtomicLong();
    private final Object dirSyncLock = new Object();
    private long renamesSynced; // guarded by dirSyncLock

    /** Names of files found to belong to another destination: skipped without reading them again. */
    private final Set<String> foreign = ConcurrentHashMap.newKeySet();

    public DirectoryTraceSpool(Path dir, String destination, int maxTraces, TraceCodec codec) throws IOException {
        this.dir = dir;
        this.destination = Objects.requireNonNull(destination, "destination");
        this.maxTraces = maxTraces;
        this.codec = codec;
        Files.createDirectories(dir);
        open();
    }

    @Override
    public String put(Trace trace) throws IOException {
        String name = String.format("%013d-%s%c%016d%s", trace.info().requestTimeMillis(), trace.info().traceId(),
                STAMP, nextStamp(), SUFFIX);
        Path tmp = dir.resolve(TMP + UUID.randomUUID());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(codec.encode(trace, destination));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        move(tmp, dir.resolve(name));
        syncRenames();
        deleteEarlierCopies(name);
        dropOverflow(name);
        return name;
    }

    private static long nextStamp() {
        long now = System.currentTimeMillis() * 1000;
        return LAST_STAMP.accumulateAndGet(now, (last, clock) -> Math.max(last + 1, clock));
    }

    /** The file name without its write stamp: equal for every copy of one trace. */
    private static String traceOf(String name) {
        String bare = name.substring(0, name.length() - SUFFIX.length());
        int stamp = bare.lastIndexOf(STAMP);
        return stamp < 0 ? bare : bare.substring(0, stamp);
    }

    /** Whether {@code a} is a copy of the same trace written before {@code b}; unstamped (older agentfn) is oldest. */
    private static boolean earlierCopy(String a, String b) {
        if (a.equals(b) || !traceOf(a).equals(traceOf(b))) {
            return false;
        }
        boolean aStamped = a.lastIndexOf(STAMP) >= 0;
        boolean bStamped = b.lastIndexOf(STAMP) >= 0;
        return aStamped == bStamped ? a.compareTo(b) < 0 : !aStamped;
    }

    /** The new copy {@code stored} is durable: the copies of its trace written before it are superseded. */
    private void deleteEarlierCopies(String stored) {
        String trace = traceOf(stored);
        List<String> earlier = new ArrayList<>();
        synchronized (index) {
            for (String name : index.subSet(trace, true, trace + Character.MAX_VALUE, false)) {
                if (earlierCopy(name, stored)) {
                    earlier.add(name);
                }
            }
            earlier.forEach(index::remove);
        }
        earlier.forEach(this::deleteSuperseded);
    }

    private void deleteSuperseded(String name) {
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            LOG.warnf("Could not delete %s, an earlier copy of a trace spooled again: %s", name, e.getMessage());
        }
    }

    @Override
    public synchronized List<SpooledTrace> oldest(int max, Predicate<String> skip) {
        List<SpooledTrace> out = new ArrayList<>();
        List<Path> entries = entries();
        Map<String, String> newest = newestCopies(entries);
        for (Path p : entries) {
            if (out.size() >= max) {
                break;
            }
            String name = p.getFileName().toString();
            if (!name.equals(newest.get(traceOf(name)))) {
                forget(name);
                deleteSuperseded(name);
                continue;
            }
            if (skip.test(name)) {
                continue;
            }
            try {
                TraceCodec.Decoded d = codec.decode(Files.readAllBytes(p));
                if (d.destination() == null || d.destination().equals(destination)) {
                    out.add(new SpooledTrace(name, d.trace()));
                } else {
                    leaveForeign(name, d.destination());
                }
            } catch (NoSuchFileException e) {
                forget(p.getFileName().toString()); // delivered late or dropped meanwhile
            } catch (IOException | RuntimeException e) {
                setAside(p, "corrupt", "unreadable: " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * The newest copy of each trace in a listing. Several copies of one trace are there only after a crash between
     * a new copy's rename and the deletion of the earlier ones.
     */
    private static Map<String, String> newestCopies(List<Path> entries) {
        Map<String, String> newest = new HashMap<>();
        for (Path p : entries) {
            String name = p.getFileName().toString();
            newest.merge(traceOf(name), name, (kept, other) -> earlierCopy(kept, other) ? other : kept);
        }
        return newest;
    }

    @Override
    public void remove(String handle) {
        if (handle.contains("/") || handle.contains("\\") || !handle.endsWith(SUFFIX)) {
            return;
        }
        try {
            Files.deleteIfExists(dir.resolve(handle));
            forget(handle);
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

    public String destination() {
        return destination;
    }

    /**
     * The directory of one destination below a spool root: {@code <root>/to-<16 hex digits of the
     * destination's SHA-256>}. A {@code destination.txt} in it names the destination for operators.
     */
    public static Path directoryFor(Path root, String destination) throws IOException {
        Path dir = root.resolve("to-" + sha256Hex(destination).substring(0, 16));
        Files.createDirectories(dir);
        Path label = dir.resolve("destination.txt");
        if (!Files.exists(label)) {
            Files.writeString(label, destination + "\n");
        }
        return dir;
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Trace files directly in a spool root: written by an agentfn that did not record destinations. */
    public static long unlabelledIn(Path root) {
        try (Stream<Path> files = Files.list(root)) {
            return files.filter(p -> Files.isRegularFile(p) && isTrace(p.getFileName().toString())).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** Lists the directory (names only: {@code corrupt/} and {@code rejected/} do not end in .json) and resets the index. */
    private List<Path> entries() {
        long storesBefore;
        synchronized (index) {
            storesBefore = stores;
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> isTrace(p.getFileName().toString()) && !foreign.contains(p.getFileName().toString()))) {
            files.forEach(found::add);
        } catch (IOException e) {
            LOG.errorf("Spool directory %s is unreadable: %s", dir, e.getMessage());
            return List.of();
        }
        found.sort(null);
        synchronized (index) {
            boolean overlapped = stores != storesBefore;
            if (!overlapped) {
                index.clear();
            }
            found.forEach(p -> index.add(p.getFileName().toString()));
            mayHoldTraces = overlapped || !found.isEmpty();
        }
        return found;
    }

    /** Adds a stored name to the index and drops the oldest traces beyond the bound. */
    private void dropOverflow(String stored) {
        List<String> drop = new ArrayList<>();
        synchronized (index) {
            index.add(stored);
            stores++;
            mayHoldTraces = true;
            while (index.size() > maxTraces) {
                drop.add(index.pollFirst());
            }
        }
        for (String name : drop) {
            String theirs = foreignDestination(name);
            if (theirs != null) {
                leaveForeign(name, theirs); // not ours to drop, even when the spool is full
                continue;
            }
            try {
                Files.deleteIfExists(dir.resolve(name));
                LOG.errorf("Spool full (%d traces): dropped the oldest trace %s; it is lost", maxTraces, name);
            } catch (IOException e) {
                LOG.warnf("Could not drop %s: %s", name, e.getMessage());
            }
        }
    }

    /** The destination a file records when it is another than this spool's; null for ours, unlabelled or unreadable. */
    private String foreignDestination(String name) {
        try {
            String d = codec.decode(Files.readAllBytes(dir.resolve(name))).destination();
            return d == null || d.equals(destination) ? null : d;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Another deployment's trace: not ours to send, move or drop; said once per file. */
    private void leaveForeign(String name, String itsDestination) {
        forget(name);
        if (foreign.add(name)) {
            LOG.warnf("Spooled trace %s is for %s, not for this deployment's %s; left where it is", name,
                    LogText.escape(itsDestination), destination);
        }
    }

    private void forget(String name) {
        synchronized (index) {
            index.remove(name);
        }
    }

    private void setAside(Path p, String folder, String why) {
        try {
            Path target = Files.createDirectories(dir.resolve(folder));
            Files.move(p, target.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            forget(p.getFileName().toString());
            LOG.errorf("Spooled trace %s %s; moved to %s", p.getFileName(), LogText.escape(why), target);
        } catch (IOException e) {
            LOG.errorf("Spooled trace %s %s, and could not be moved: %s", p, LogText.escape(why), e.getMessage());
        }
    }

    private static boolean isTrace(String fileName) {
        return fileName.endsWith(SUFFIX) && !fileName.startsWith(".");
    }

    /**
     * One look at the directory when the spool opens: a {@code .tmp-} file is a write that never reached its
     * rename (the trace was not spooled) and is removed; the traces seed the index the bound is kept with.
     */
    private void open() {
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.startsWith(TMP)) {
                    removeLeftover(p);
                } else if (isTrace(n)) {
                    index.add(n);
                }
            });
        } catch (IOException e) {
            LOG.warnf("Could not list spool directory %s: %s", dir, e.getMessage());
        }
    }

    private static void removeLeftover(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
            LOG.warnf("Removed %s, an unfinished spool write from an earlier process", tmp.getFileName());
        } catch (IOException e) {
            LOG.warnf("Could not remove %s: %s", tmp, e.getMessage());
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes this thread's rename durable. Writers queue here; whoever gets the lock fsyncs the directory
     * once for every rename finished before that fsync starts, and the writers it covered return at once.
     */
    private void syncRenames() {
        long mine = renames.incrementAndGet();
        synchronized (dirSyncLock) {
            if (renamesSynced >= mine) {
                return;
            }
            long covered = renames.get();
            syncDirectory();
            renamesSynced = covered;
        }
    }

    /** Makes renames durable; not every file system allows opening a directory, which is fine. */
    private void syncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the file's own data was already forced
        }
    }
}
