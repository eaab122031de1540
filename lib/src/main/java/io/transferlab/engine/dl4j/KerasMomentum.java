package io.transferlab.engine.dl4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import java.util.Objects;

/**
 * Keras's SGD with (classical, not Nesterov) momentum, as a DL4J updater: {@code velocity = momentum * velocity -
 * learning_rate * gradient; weights += velocity}. DL4J ships only Nesterov momentum ({@code Nesterovs}), which is
 * Keras's {@code SGD(nesterov=True)}; Keras's default is this one. DL4J subtracts what the updater leaves in the
 * gradient array, so that is {@code -velocity}.
 */
public final class KerasMomentum implements IUpdater {
    private double learningRate;
    private double momentum;

    /** For DL4J's JSON (de)serialization of configurations. */
    @SuppressWarnings("unused")
    private KerasMomentum() {
    }

    public KerasMomentum(double learningRate, double momentum) {
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    public double getMomentum() {
        return momentum;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
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
        return o instanceof KerasMomentum k && k.learningRate == learningRate && k.momentum == momentum;
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, momentum);
    }

    @Override
    public KerasMomentum clone() {
        return new KerasMomentum(learningRate, momentum);
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
        return "SGD(learning_rate=" + learningRate + ", momentum=" + momentum + ")";
    }

    private static final class Updater implements GradientUpdater<KerasMomentum> {
        private final KerasMomentum config;
        private INDArray velocity;

        Updater(KerasMomentum config) {
            this.config = config;
        }

        @Override
        public KerasMomentum getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> state, boolean initialize) {
            INDArray v = state.get("V");
            if (v == null) {
                throw new IllegalStateException("momentum state 'V' missing");
            }
            setStateViewArray(v, v.shape(), v.ordering(), initialize);
        }

        @Override
        public Map<String, INDArray> getState() {
            return Map.of("V", velocity);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            velocity = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
            if (velocity == null) {
                throw new IllegalStateException("could not reshape the momentum state to the gradient's shape");
            }
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            INDArray g = gradient.reshape(velocity.shape());
            velocity.muli(config.momentum).subi(g.mul(config.getLearningRate(iteration, epoch)));
            gradient.assign(velocity.neg().reshape(gradient.shape()));
        }
    }
}
