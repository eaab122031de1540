package io.transferlab.engine.dl4j;

import io.transferlab.engine.onednn.FlatOptimizer;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.FloatArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Keras optimizer (RMSprop, Adam, SGD with or without Keras's classical momentum) as a DL4J updater, computed by
 * the library's own vectorized arithmetic ({@link FlatOptimizer}, which the oneDNN head trainer runs too) instead of
 * ND4J's updater ops: the same formulas as DL4J's RmsProp, Adam and Sgd (RMSprop's average starting at epsilon,
 * Adam's bias correction folded into its step size), in DL4J's state layout (checkpoints written with DL4J's
 * updaters resume here and the other way round), with two differences that matter for speed:
 * <ul>
 *   <li>ND4J's Adam op took about 26 ns a weight on the fine-tuning path (MobileNet's last block open: 1.06M
 *       weights, about 28 ms of each step); this takes about 1 ns.</li>
 *   <li>State that decays towards zero (weights whose gradient stays zero, as behind a dead ReLU) is kept out of the
 *       subnormal floats, which cost the CPU tens of times more per operation; see {@code OptimizerStep}.</li>
 * </ul>
 * Keras's classical momentum (velocity = momentum * velocity - lr * g; w += velocity) is what DL4J lacks: its
 * {@code Nesterovs} is Keras's {@code SGD(nesterov=True)}, which stays on DL4J's updater.
 *
 * <p>DL4J subtracts what an updater leaves in the gradient array; this leaves the change {@link FlatOptimizer#change}
 * computes. Configured and serialised (DL4J's JSON) by the optimizer's kind, learning rate and momentum, the Keras
 * defaults being the rest.
 */
public final class KerasUpdater implements IUpdater {
    private Optimizer.Kind kind;
    private double learningRate;
    private double momentum;

    /** For DL4J's JSON (de)serialization of configurations. */
    @SuppressWarnings("unused")
    private KerasUpdater() {
    }

    private KerasUpdater(Optimizer.Kind kind, double learningRate, double momentum) {
        this.kind = kind;
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    /**
     * The updater for this optimizer, or null where it has none (SGD with Nesterov momentum; settings other than
     * those Keras's constructors of this library make).
     */
    public static KerasUpdater of(Optimizer o) {
        if (!FlatOptimizer.supports(o)) {
            return null;
        }
        KerasUpdater u = new KerasUpdater(o.kind(), o.learningRate(), o.momentum());
        Optimizer back = u.optimizer();
        boolean same = back.rho() == o.rho() && back.beta1() == o.beta1() && back.beta2() == o.beta2()
                && back.epsilon() == o.epsilon() && back.momentum() == o.momentum();
        return same ? u : null;
    }

    /** The Keras optimizer this updater computes. */
    public Optimizer optimizer() {
        return switch (kind) {
            case RMSPROP -> Optimizer.RMSprop(learningRate);
            case ADAM -> Optimizer.Adam(learningRate);
            case SGD -> Optimizer.SGD(learningRate, momentum);
        };
    }

    @Override
    public long stateSize(long numParams) {
        return slotNames().length * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, viewArray == null ? null : viewArray.shape(), 'c', initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater u = new Updater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KerasUpdater k && k.kind == kind && k.learningRate == learningRate
                && k.momentum == momentum;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, learningRate, momentum);
    }

    @Override
    public KerasUpdater clone() {
        return new KerasUpdater(kind, learningRate, momentum);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        if (lrSchedule != null) {
            throw new UnsupportedOperationException("learning-rate schedules are not supported by " + this);
        }
        this.learningRate = lr;
    }

    @Override
    public String toString() {
        return optimizer().toString();
    }

    /** DL4J's names for the state slots, in layout order. */
    private String[] slotNames() {
        return switch (kind) {
            case RMSPROP -> new String[]{"G"};
            case ADAM -> new String[]{"M", "V"};
            case SGD -> momentum == 0 ? new String[0] : new String[]{"V"};
        };
    }

    private static final class Updater implements GradientUpdater<KerasUpdater> {
        private final KerasUpdater config;
        private FlatOptimizer arithmetic;
        private double arithmeticLearningRate;
        private INDArray state;    // slots of n values one after the other, dense (DL4J's updater view), or null

        Updater(KerasUpdater config) {
            this.config = config;
        }

        @Override
        public KerasUpdater getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            String[] names = config.slotNames();
            if (names.length == 0) {
                state = null;
                return;
            }
            long n = -1;
            for (String name : names) {
                INDArray s = stateMap.get(name);
                if (s == null) {
                    throw new IllegalStateException(config + ": optimizer state '" + name + "' missing");
                }
                n = s.length();
            }
            INDArray view = Nd4j.create(DataType.FLOAT, 1, names.length * n);
            for (int i = 0; i < names.length; i++) {
                view.get(NDArrayIndex.point(0), NDArrayIndex.interval(i * n, (i + 1) * n))
                        .assign(stateMap.get(names[i]).reshape(n));
            }
            setStateViewArray(view, new long[]{1, n}, 'c', initialize);
        }

        @Override
        public Map<String, INDArray> getState() {
            Map<String, INDArray> out = new LinkedHashMap<>();
            String[] names = config.slotNames();
            if (state == null || names.length == 0) {
                return out;
            }
            long n = state.length() / names.length;
            for (int i = 0; i < names.length; i++) {
                out.put(names[i], state.get(NDArrayIndex.point(0), NDArrayIndex.interval(i * n, (i + 1) * n)));
            }
            return out;
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
            int slots = config.slotNames().length;
            if (slots == 0) {
                state = null;
                return;
            }
            if (viewArray == null || viewArray.dataType() != DataType.FLOAT || !FloatArrays.denseInCOrder(viewArray)) {
                throw new IllegalStateException(config + ": expected dense float optimizer state, got "
                        + (viewArray == null ? "none" : viewArray.shapeInfoToString()));
            }
            if (initialize) {
                // RMSprop's average starts at epsilon, as DL4J's RmsProp starts it; the rest at zero
                viewArray.assign(config.kind == Optimizer.Kind.RMSPROP ? config.optimizer().epsilon() : 0);
            }
            state = viewArray.rank() == 2 ? viewArray : viewArray.reshape(1, viewArray.length());
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (arithmetic == null || arithmeticLearningRate != config.learningRate) {
                arithmetic = new FlatOptimizer(config.optimizer());
                arithmeticLearningRate = config.learningRate;
            }
            long n = gradient.length();
            if (state != null && state.length() != arithmetic.stateSlots() * n) {
                throw new IllegalStateException(config + ": optimizer state of " + state.length() + " values for "
                        + n + " weights");
            }
            boolean direct = gradient.dataType() == DataType.FLOAT && FloatArrays.denseInCOrder(gradient);
            INDArray g = direct ? gradient : gradient.castTo(DataType.FLOAT).dup('c');
            arithmetic.change(iteration, g.data().addressPointer(),
                    state == null ? null : state.data().addressPointer(), n);
            if (!direct) {
                gradient.assign(g.castTo(gradient.dataType()));
            }
        }
    }
}
