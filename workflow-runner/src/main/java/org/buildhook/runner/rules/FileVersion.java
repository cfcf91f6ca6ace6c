package org.buildhook.runner.rules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * What identifies one version of a file without reading it: where a symlink points, the file's
 * identity (inode; a rename over the file changes it), size and modification time.
 */
record FileVersion(Path target, Object fileKey, long size, FileTime modified) {

    private static final FileVersion MISSING = new FileVersion(null, null, -1, null);

    static FileVersion of(Path file) {
        try {
            Path target = file.toRealPath();
            BasicFileAttributes attributes = Files.readAttributes(target, BasicFileAttributes.class);
            return new FileVersion(target, attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
        } catch (IOException e) {
            return MISSING;
        }
    }

    /** Whether the file (or, for a symlink, its target) did not exist or could not be looked at. */
    boolean missing() {
        return target == null;
    }
}
