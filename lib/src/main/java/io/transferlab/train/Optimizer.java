package io.transferlab.train;

import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Optimizers with Keras's names and defaults. {@code Optimizer.RMSprop(2e-5)} is Keras's
 * {@code optimizers.RMSprop(learning_rate=2e-5)}: rho 0.9, epsilon 1e-7. Adam: beta_1 0.9, beta_2 0.999,
 * epsilon 1e-7. SGD: momentum 0; with momentum, classical momentum ({@link KerasMomentum}) unless nesterov.
 */
public final class Optimizer {
    private final String name;
    private final double learningRate;
    private final IUpdater updater;

    private Optimizer(String name, double learningRate, IUpdater updater) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException(name + " learning rate must be positive, got " + learningRate);
        }
        this.name = name;
        this.learningRate = learningRate;
        this.updater = updater;
    }

    /** Keras RMSprop(learning_rate, rho=0.9, epsilon=1e-7). */
    public static Optimizer RMSprop(double learningRate) {
        return new Optimizer("RMSprop", learningRate, new RmsProp(learningRate, 0.9, 1e-7));
    }

    /** Keras RMSprop() with its default learning rate 0.001. */
    public static Optimizer RMSprop() {
        return RMSprop(1e-3);
    }

    /** Keras Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7). */
    public static Optimizer Adam(double learningRate) {
        return new Optimizer("Adam", learningRate, new Adam(learningRate, 0.9, 0.999, 1e-7));
    }

    public static Optimizer Adam() {
        return Adam(1e-3);
    }

    /** Keras SGD(learning_rate, momentum): classical momentum, as Keras's default nesterov=False. */
    public static Optimizer SGD(double learningRate, double momentum) {
        return SGD(learningRate, momentum, false);
    }

    /** Keras SGD(learning_rate, momentum, nesterov). */
    public static Optimizer SGD(double learningRate, double momentum, boolean nesterov) {
        if (momentum < 0 || momentum >= 1) {
            throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
        }
        IUpdater u = momentum == 0 ? new Sgd(learningRate)
                : nesterov ? new Nesterovs(learningRate, momentum) : new KerasMomentum(learningRate, momentum);
        return new Optimizer("SGD", learningRate, u);
    }

    /** Keras's optimizer given by name with defaults: "rmsprop", "adam", "sgd". */
    public static Optimizer named(String name) {
        return switch (name.toLowerCase()) {
            case "rmsprop" -> RMSprop();
            case "adam" -> Adam();
            case "sgd" -> SGD(0.01, 0);
            default -> throw new IllegalArgumentException("Unknown optimizer '" + name + "'; known: rmsprop, adam, sgd");
        };
    }

    public String name() {
        return name;
    }

    public double learningRate() {
        return learningRate;
    }

    /** The DL4J updater that implements it. */
    public IUpdater dl4j() {
        return updater.clone();
    }

    @Override
    public String toString() {
        return name + "(learning_rate=" + learningRate + ")";
    }
}
