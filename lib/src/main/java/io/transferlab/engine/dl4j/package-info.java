/**
 * DL4J building blocks that DL4J 1.0.0-M2.1 lacks or gets wrong for Keras semantics. Used by the Keras layers in
 * {@code io.transferlab.layers}; not meant to be used directly. The classes are public only because DL4J's JSON
 * configuration (saving and cloning networks) needs to create them.
 */
package io.transferlab.engine.dl4j;
