package org.rapaio.jupyter.kernel.message.messages;

import org.rapaio.shaded.com.google.gson.annotations.SerializedName;
import io.transferlab.kernel.ErrorNames;
import org.rapaio.jupyter.kernel.message.ContentType;
import org.rapaio.jupyter.kernel.message.MessageType;

import java.util.List;
import java.util.function.Function;

/**
 * Replaces the kernel's record of the same name (this copy comes first on the kernel's class path): the error
 * published for a cell, with the exception's own name and message (see {@link ErrorNames}).
 */
public record IOPubError(
        @SerializedName("ename") String errName,
        @SerializedName("evalue") String errMsg,
        @SerializedName("traceback") List<String> stacktrace) implements ContentType<IOPubError> {

    public static IOPubError of(Exception exception, Function<Exception, List<String>> formatter) {
        return new IOPubError(ErrorNames.name(exception), ErrorNames.value(exception), formatter.apply(exception));
    }

    @Override
    public MessageType<IOPubError> type() {
        return MessageType.IOPUB_ERROR;
    }
}
