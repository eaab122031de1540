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

    /** The DL4J updater with Keras's arithmetic for this optimizer; Keras's classical SGD momentum is {@link KerasMomentum}. */
    public static IUpdater updater(Optimizer o) {
        return switch (o.kind()) {
            case RMSPROP -> new RmsProp(o.learningRate(), o.rho(), o.epsilon());
            case ADAM -> new Adam(o.learningRate(), o.beta1(), o.beta2(), o.epsilon());
            case SGD -> o.momentum() == 0 ? new Sgd(o.learningRate())
                    : o.nesterov() ? new Nesterovs(o.learningRate(), o.momentum()) : new KerasMomentum(o.learningRate(), o.momentum());
        };
    }

    static ILossFunction loss(Loss loss) {
        return loss == Loss.BINARY_CROSSENTROPY ? new LossBinaryXENT() : new LossMCXENT();
    }
}
