package io.transferlab.kernel;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Stack;

/**
 * The kernel's stack of "after the handler" actions (publish idle, send the reply, restore System.out...), kept per
 * channel thread. The stock kernel shares one stack between its shell and control loops, so an interrupt_request
 * handled on the control loop ran the actions the running cell had scheduled: the cell was reported idle and its
 * output unbound while it still ran.
 */
final class PerThreadActions extends Stack<Runnable> {
    private final transient ThreadLocal<Deque<Runnable>> local = ThreadLocal.withInitial(ArrayDeque::new);

    @Override
    public Runnable push(Runnable item) {
        local.get().push(item);
        return item;
    }

    @Override
    public synchronized Runnable pop() {
        return local.get().pop();
    }

    @Override
    public synchronized Runnable peek() {
        return local.get().peek();
    }

    @Override
    public boolean isEmpty() {
        return local.get().isEmpty();
    }

    @Override
    public synchronized int size() {
        return local.get().size();
    }

    @Override
    public synchronized boolean equals(Object o) {
        return this == o;
    }

    @Override
    public synchronized int hashCode() {
        return System.identityHashCode(this);
    }
}
