package org.buildhook.core;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Says what went wrong with a file or a connection in words an operator reads, never a Java class
 * name: {@code NoSuchFileException: /etc/x} becomes {@code /etc/x does not exist}. Every message
 * that reports an {@link IOException} to a user goes through {@link #describe}.
 */
public final class IoProblems {

    private IoProblems() {
    }

    /**
     * @return a sentence fragment such as {@code "/etc/x does not exist"} or {@code "permission denied
     *         on /etc/x"}; never empty, never the exception's class name
     */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String file = fs.getFile() == null ? "the file" : fs.getFile();
            String reason = fs.getReason();
            if (e instanceof NoSuchFileException) {
                return file + " does not exist";
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied on " + file + " (check its owner and mode, and its folders')";
            }
            if (e instanceof NotDirectoryException) {
                return file + " is not a directory";
            }
            if (e instanceof FileAlreadyExistsException) {
                return file + " already exists";
            }
            if (e instanceof DirectoryNotEmptyException) {
                return file + " is a directory that is not empty";
            }
            if (e instanceof FileSystemLoopException) {
                return file + " is part of a loop of symbolic links";
            }
            return reason == null ? "cannot use " + file : file + ": " + reason;
        }
        if (e instanceof CharacterCodingException) {
            return "it is not UTF-8 text";
        }
        if (e instanceof ConnectException) {
            return "connection refused" + (e.getMessage() == null || e.getMessage().isBlank()
                    ? "" : " (" + e.getMessage() + ")");
        }
        if (e instanceof UnknownHostException) {
            return "unknown host " + e.getMessage();
        }
        if (e instanceof HttpTimeoutException) {
            return "no answer in time";
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getCause() instanceof IOException cause ? describe(cause) : "an input/output error";
        }
        // "Is a directory" and friends come as bare messages from the JDK.
        return message;
    }
}
