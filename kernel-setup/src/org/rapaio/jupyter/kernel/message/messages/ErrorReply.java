package org.rapaio.jupyter.kernel.message.messages;

import org.rapaio.shaded.com.google.gson.annotations.SerializedName;
import io.transferlab.kernel.ErrorNames;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.core.format.ErrorFormatters;
import org.rapaio.jupyter.kernel.message.ContentType;
import org.rapaio.jupyter.kernel.message.MessageType;

import java.util.List;

/**
 * Replaces the kernel's record of the same name (this copy comes first on the kernel's class path): the reply to a
 * request that failed, with the exception's own name and message (see {@link ErrorNames}).
 */
public record ErrorReply(
        @SerializedName("status") String status,
        @SerializedName("ename") String errName,
        @SerializedName("evalue") String errMsg,
        @SerializedName("traceback") List<String> traceback,
        @SerializedName("execution_count") Integer executionCount) implements ContentType<Object> {

    public MessageType<Object> type() {
        return MessageType.UNKNOWN;
    }

    public static ErrorReply of(RapaioKernel kernel, Exception exception, int executionCount) {
        return new ErrorReply(ErrorNames.name(exception), ErrorNames.value(exception),
                ErrorFormatters.exceptionFormat(kernel, exception), executionCount);
    }

    public ErrorReply(String errName, String errMsg, List<String> stacktrace, int executionCount) {
        this("error", errName, errMsg, stacktrace, executionCount);
    }
}
