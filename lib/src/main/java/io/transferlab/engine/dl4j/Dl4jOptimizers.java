package io.transferlab.engine.dl4j;

import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Keras's optimizers and losses as DL4J's updaters and loss functions (the DL4J engine's optimizer arithmetic). */
public final class Dl4jOptimizers {
    private Dl4jOptimizers() {
    }

    /**
     * The DL4J updater with Keras's arithmetic for this optimizer: the library's vectorized one ({@link KerasUpdater}),
     * or, for SGD with Nesterov momentum, DL4J's {@code Nesterovs}. {@code TL_FAST_UPDATER=0} (or the system
     * property {@code transferlab.fastUpdater=false}, read when a network is built) takes DL4J's own RmsProp, Adam and
     * Sgd instead, for comparisons; Keras's classical momentum, which DL4J lacks, stays on {@link KerasUpdater}.
     */
    public static IUpdater updater(Optimizer o) {
        boolean fast = io.transferlab.runtime.Backend.switchedOn("transferlab.fastUpdater", "TL_FAST_UPDATER");
        KerasUpdater mine = KerasUpdater.of(o);
        if (mine != null && (fast || o.kind() == Optimizer.Kind.SGD && o.momentum() != 0)) {
            return mine;
        }
        return switch (o.kind()) {
            case RMSPROP -> new RmsProp(o.learningRate(), o.rho(), o.epsilon());
            case ADAM -> new Adam(o.learningRate(), o.beta1(), o.beta2(), o.epsilon());
            case SGD -> o.momentum() == 0 ? new Sgd(o.learningRate()) : new Nesterovs(o.learningRate(), o.momentum());
        };
    }

    static ILossFunction loss(Loss loss) {
        return loss == Loss.BINARY_CROSSENTROPY ? new LossBinaryXENT() : new LossMCXENT();
    }
}
