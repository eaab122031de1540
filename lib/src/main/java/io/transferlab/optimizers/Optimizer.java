package io.transferlab.optimizers;

/**
 * Optimizers with Keras's names, arguments and defaults: a description that each engine turns into its own update
 * arithmetic. {@code Optimizer.RMSprop(2e-5)} is Keras's {@code optimizers.RMSprop(learning_rate=2e-5)}: rho 0.9,
 * epsilon 1e-7. Adam: beta_1 0.9, beta_2 0.999, epsilon 1e-7. SGD: momentum 0; with momentum, Keras's classical
 * momentum unless nesterov.
 */
public final class Optimizer {
    /** The update rules Keras names. */
    public enum Kind { RMSPROP, ADAM, SGD }

    private final Kind kind;
    private final String name;
    private final double learningRate;
    private final double rho;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double momentum;
    private final boolean nesterov;

    private Optimizer(Kind kind, String name, double learningRate, double rho, double beta1, double beta2,
                      double epsilon, double momentum, boolean nesterov) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException(name + " learning rate must be positive, got " + learningRate);
        }
        this.kind = kind;
        this.name = name;
        this.learningRate = learningRate;
        this.rho = rho;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    /** Keras RMSprop(learning_rate, rho=0.9, epsilon=1e-7). */
    public static Optimizer RMSprop(double learningRate) {
        return new Optimizer(Kind.RMSPROP, "RMSprop", learningRate, 0.9, 0, 0, 1e-7, 0, false);
    }

    /** Keras RMSprop() with its default learning rate 0.001. */
    public static Optimizer RMSprop() {
        return RMSprop(1e-3);
    }

    /** Keras Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7). */
    public static Optimizer Adam(double learningRate) {
        return new Optimizer(Kind.ADAM, "Adam", learningRate, 0, 0.9, 0.999, 1e-7, 0, false);
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
        return new Optimizer(Kind.SGD, "SGD", learningRate, 0, 0, 0, 0, momentum, nesterov);
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

    public Kind kind() {
        return kind;
    }

    public String name() {
        return name;
    }

    public double learningRate() {
        return learningRate;
    }

    /** RMSprop's decay of the squared-gradient average. */
    public double rho() {
        return rho;
    }

    /** Adam's beta_1. */
    public double beta1() {
        return beta1;
    }

    /** Adam's beta_2. */
    public double beta2() {
        return beta2;
    }

    /** RMSprop's and Adam's epsilon. */
    public double epsilon() {
        return epsilon;
    }

    /** SGD's momentum (0: plain SGD). */
    public double momentum() {
        return momentum;
    }

    /** SGD's nesterov flag. */
    public boolean nesterov() {
        return nesterov;
    }

    @Override
    public String toString() {
        return name + "(learning_rate=" + learningRate + ")";
    }
}
