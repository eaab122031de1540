/**
 * The DL4J engine: every layer runs and trains here, as a DL4J ComputationGraph built from the model. The one
 * place each layer is lowered is {@link io.transferlab.engine.dl4j.Dl4jLowering}; {@link
 * io.transferlab.engine.dl4j.Dl4jEngine} keeps a network per model. The remaining classes are DL4J building blocks
 * that DL4J 1.0.0-M2.1 lacks or gets wrong for Keras semantics (public only because DL4J's JSON configuration needs
 * to create them).
 */
package io.transferlab.engine.dl4j;
